"""The exchange API's client SDK: signing, the retrying client, its errors, wire models, keys.

Usable on its own (`pip install ./layers/exchange`); nothing here knows about orders storage or HTTP."""
