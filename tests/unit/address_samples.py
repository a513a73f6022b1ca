"""Publicly known destination addresses per networkTitle, with where each comes from.

Checksummed formats cannot be made up by accident: an address below that passes its
network's checksum is a real encoding. Sources named in the comments.
"""

from __future__ import annotations

EIP55_MIXED_CASE = (
    # EIP-55 specification test vectors.
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    # Ethereum Foundation; first BIP-44 account of the BIP-39 "abandon ... about" mnemonic.
    "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe",
    "0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
)
EIP55_SINGLE_CASE = (
    # EIP-55 specification: all-caps and all-lower vectors carry no checksum.
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
)
EVM_NETWORKS = ("ERC20", "BEP20", "POLYGON", "ARBITRUM", "OPTIMISM", "BASE", "AVAXC", "ETC")

VALID: dict[str, tuple[str, ...]] = {
    "BTC": (
        "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # genesis block coinbase
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # Bitcoin wiki P2SH example
        "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA",  # BIP-44 "abandon ... about" m/44'/0'/0'/0/0
        "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf",  # BIP-49 test vector
        "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu",  # BIP-84 test vector
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # Bitcoin wiki Bech32 example
        "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # BIP-173/350 vector, upper case
        "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # BIP-173 P2WSH
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # BIP-350 P2TR
        "bc1p5cyxnuxmeuwuvkwfem96lqzszd02n6xdcjrs20cac6yqjjwudpxqkedrcr",  # BIP-86 test vector
    ),
    "LTC": (
        # bip-utils test vectors (P2PKH, P2SH, P2WPKH).
        "LX4YojYdeBk3TtUcryCcgAqYxjicKfK7AD",
        "LVYs6bw81eLpkqGtsHWDNFbssZPPdNcL4G",
        "MJfELhwt9S6Sr9hadHGsnTELZzFUVjMrFc",
        "MQJA6RzwpcX4BWUCqSqxDCLfYHzgYna6cr",
        "ltc1qwlezpr3890hcp6vva9twqh27mr6edadreqvhnn",
        "ltc1qdjtr2jc5uu6r0ss2fcey3djvkhlu7jux420fhr",
        # Old-style P2SH (version 0x05): Litecoin Core still pays it.
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    ),
    "DOGE": (
        "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L",  # dogecoin.com example
        "DAcDAtJRztxBHyA6D6h8du1HguyTR43Mas",  # bip-utils P2PKH vector
        "9xzLEaWbi3eVzRzv6YdGcXbXQMHydntSq7",  # bip-utils P2SH vector
        "ABxNotFnVaS85dcyXY76d2Fbr12qph6UTy",  # bip-utils P2SH vector
    ),
    "DASH": (
        "XpESxaUmonkq8RaLLp46Brx2K39ggQe226",  # Dash documentation example
        "XnLyZhQDr3JqFQi7UPC8LddHMgbAyQWiZo",  # bip-utils P2PKH vector
        "7Y5u3566rd7s3dcyDXwDHgvK5VLVhzoeoy",  # bip-utils P2SH vector
    ),
    "ZEC": (
        # bip-utils test vectors: transparent P2PKH (t1) and P2SH (t3).
        "t1Msw6c7mLQbPnHRyTC6NB3y2U2HjcrHiRM",
        "t1T6t4H4zerrZRtkPVuu7fgVBCjRjNMY295",
        "t3PDRLn9XNChQHFJ3826hT7yvv1or9gg52H",
        "t3aFk4wDnEgJ1HB1yKXhmqsGZDAcrvpEGXv",
    ),
    "BCH": (
        # cashaddr specification test vectors, with and without prefix, and their legacy forms.
        "bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a",
        "BITCOINCASH:QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
        "QPM2QSZNHKS23Z7629MMS6S4CWEF74VCWVY22GDX6A",
        "bitcoincash:ppm2qsznhks23z7629mms6s4cwef74vcwvn0h829pq",
        "1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu",
        "3CWFddi6m4ndiGyKqzYvsFYagqDLPVMTzC",
        "bitcoincash:qrvcdmgpk73zyfd8pmdl9wnuld36zh9n4gms8s0u59",  # bip-utils vector
    ),
    **dict.fromkeys(EVM_NETWORKS, EIP55_MIXED_CASE + EIP55_SINGLE_CASE),
    "TRC20": (
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",  # USDT contract on TRON
        "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH",  # BIP-44 "abandon ... about"
    ),
    "SOL": (
        "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",  # USDC mint
        "B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY",  # BIP-44 "abandon ... about"
    ),
    "XRP": (
        "rPT1Sjq2YGrBMTttX4GZHjKu9dyfzbpAYe",  # XRPL documentation example
        "rf1BiGeXwwQoi8Z2ueFYTEXSwuJYfV2Jpn",  # XRPL documentation example
        "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh",  # genesis account
    ),
    "XLM": (
        # SEP-23 (StrKey) valid account IDs.
        "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7",
        "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ",
        "GBAECME5H27NLRFYZLFF6SAF5NSFRPOWP72PNKGSRUWRMTGSAOCD3AYN",  # SEP-5 style, "abandon ... about"
    ),
    "TON": (
        "EQCD39VS5jcptHL8vMjEXrzGaRcCVYto7HUn4bpAOg8xqB2N",  # TON Foundation, bounceable
        "UQCrT9wQSjIWfJIrWitT5dup79QzkHvKs8jWx_UOoKQlXvP_",  # bip-utils vector, non-bounceable
        "UQB8E-CQxLds85ZPY8sXEYGe_EQ1qlY6q7l3BNbWQC1srNHe",  # bip-utils vector (wallet v5r1)
    ),
    "ATOM": (
        "cosmos1vqpjljwsynsn58dugz0w8ut7kun7t8ls2qkmsq",
        "cosmos19rl4cm2hmr8afy4kldpxz3fka4jguq0auqdal4",  # BIP-44 "abandon ... about"
    ),
    "EOS": ("eosio", "eosio.token", "eosio.null", "binancecleos", "a"),
    "ADA": (
        # CIP-19 test vectors: base (type 0), enterprise (6) and script enterprise (7) addresses.
        "addr1qx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzer3n0d3vllmyqwsx5wktcd8cc3sq835lu7drv2xwl2wywfgse35a3x",
        "addr1vx2fxv2umyhttkxyxp8x0dlpdt3k6cwng5pxj3jhsydzers66hrl8",
        "addr1w8phkx6acpnf78fuvxn0mkew3l0fd058hzquvz7w36x4gtcyjy7wx",
        # CIP-1852 "abandon ... about" first payment address.
        "addr1qy8ac7qqy0vtulyl7wntmsxc6wex80gvcyjy33qffrhm7sh927ysx5sftuw0dlft05dz3c7revpf7jx0xnlcjz3g69mq4afdhv",
        # Byron: CIP-19 Icarus and Daedalus examples.
        "Ae2tdPwUPEZFRbyhz3cpfC2CumGzNkFBN2L42rcUc2yjQpEkxDbkPodpMAi",
        "DdzFFzCqrhsw3prhfMFDNFowbzUku3QmrMwarfjUbWXRisodn97R436SHc1rimp4MhPNmbdYb1aTdqtGSJixMVMi5MkArDQJ6Sc1n3Ez",
    ),
    "DOT": (
        "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5",  # //Alice with Polkadot prefix 0
        "1FRMM8PEiWXYax7rpS6X4XZX1aAAxSWx1CrKTyrVYhV24fg",
        "14E9StbjYhJiAfsNMEcq5tETq79Q6EqaGyebdziY214hNWDH",  # ed25519 SLIP-10, "abandon ... about"
    ),
    "ALGO": (
        "VCMJKWOY5P5P7SKMZFFOCEROPJCZOTIJMNIYNUCKH7LRO45JMJP6UYBIJA",  # Algorand docs example
        "EP2D7TV7IAFANZHK3B6QLKB53N5UTD7RARVXZTWCPCRQQBKYVGM2XIMT2Q",  # "abandon ... about"
    ),
    "NEAR": (
        "98793cd91a3f870fb126f66285808c7e094afcfc4eda8a970f6648cdf0dbd6de",  # NEAR docs implicit account
        "4e7de0a21d8a20f970c86b6edf407906d7ba9e205979c3268270eef80a286e2d",  # "abandon ... about"
        "example.near",
        "wrap.near",
        "v2.ref-finance.near",
        "relay.aurora",
        "my_account-1.near",
    ),
    "XTZ": (
        "tz1KqTpEZ7Yob7QbPE4Hy4Wo8fHG8LhKxZSx",  # Tezos documentation example
        "tz1VgeyGiyNEA2JfqJH4utRqox9fkN2uwhbp",  # bip-utils vector
        "tz1QSN6cBu6kbssDE5TSsTpftvKzptd1sgRY",  # "abandon ... about"
        "tz2Cbgh5VwSAmk5uk2XpZzmLRXhQ9KV6uExk",
        "KT1PWx2mnDueood7fEmfbBDKx1D9BAnnXitn",  # tzBTC contract
    ),
    "XMR": (
        # Monero General Fund: primary address and subaddress.
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
        "888tNkZrPN6JsEgekjMnABU4TBzc2Dt29EPAvkRxbANsAnjyPbb3iQ1YBRk1UXcdRsiKc9dhwMVgN5S9cQUiyoogDavup3H",
        # bip-utils vectors, verified there against xmr.llcoins.net: standard and integrated.
        "483MrwgmB1yTzuzmJPSiWGQmBYC1Z21yTQXQuDWv4MZm6qBnA4CCMXVgsjoFRmGkATR8yeytc2tFJKgvKz1Bbhj5UhSCham",
        "4Hk2skWFnHVTzuzmJPSiWGQmBYC1Z21yTQXQuDWv4MZm6qBnA4CCMXVgsjoFRmGkATR8yeytc2tFJKgvKz1Bbhj5i5fCBuJ3ufPRXhfuLD",
    ),
}

# Networks whose addresses carry no checksum (or, for raw TON and EVM lower case, whose
# listed forms carry none): single-character edits are not guaranteed to be caught.
NO_CHECKSUM = frozenset({"SOL", "EOS", "NEAR", *EVM_NETWORKS})

# (network, address that belongs elsewhere, words the reason must contain)
WRONG_NETWORK: tuple[tuple[str, str, str], ...] = (
    ("BTC", "ltc1qwlezpr3890hcp6vva9twqh27mr6edadreqvhnn", "prefix 'ltc'"),
    ("BTC", "LX4YojYdeBk3TtUcryCcgAqYxjicKfK7AD", "version byte 0x30"),
    ("BTC", "tb1qxdyjf6h5d6qxap4n2dap97q4j5ps6ua8sll0ct", "prefix 'tb'"),  # testnet
    ("LTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "version byte 0x00"),
    ("LTC", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "prefix 'bc'"),
    ("DOGE", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "version byte 0x00"),
    ("DASH", "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "version byte 0x1e"),
    ("ZEC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "decodes to 21 bytes"),
    ("ZEC", "tmSEwQYGh3dzFu2boSfVeemmqHTjv4LMQFd", "version byte 0x1d25"),  # testnet
    ("BCH", "bchtest:qqaz6s295ncfs53m86qj0uw6sl8u2kuw0ymst35fx4", "prefix 'bchtest'"),
    ("BCH", "LX4YojYdeBk3TtUcryCcgAqYxjicKfK7AD", "never appears in a cashaddr"),
    ("ERC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "0x followed by 40 hexadecimal"),
    ("BEP20", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "0x followed by 40 hexadecimal"),
    ("TRC20", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "EVM-style 0x address"),
    ("TRC20", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "not TRON's 0x41"),
    ("SOL", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "never appears in Base58"),
    ("SOL", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "decodes to 25 bytes"),
    ("XRP", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "checksum does not match"),
    ("XRP", "XVLhHMPHU98es4dbozjVtdWzVrDjtV5fdx1mHp98tDMoQXb", "X-addresses are not accepted"),
    ("XLM", "EP2D7TV7IAFANZHK3B6QLKB53N5UTD7RARVXZTWCPCRQQBKYVGM2XIMT2Q", "56 characters starting with G"),
    ("TON", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "48 characters"),
    ("ATOM", "osmo1vqpjljwsynsn58dugz0w8ut7kun7t8ls2qkmsq", "start"),
    ("EOS", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "at most 12"),
    ("ADA", "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "prefix 'bc'"),
    ("ADA", "stake1uyehkck0lajq8gr28t9uxnuvgcqrc6070x3k9r8048z8y5gh6ffgw", "stake (reward) address"),
    ("DOT", "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F", "prefix is 2 (Kusama)"),
    ("DOT", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "prefix is 42"),  # //Alice, generic
    ("ALGO", "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN7", "Algorand addresses have 58"),
    ("NEAR", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "lower case"),
    ("XTZ", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "decodes to 21 bytes"),
    ("XMR", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "Monero addresses have 95"),
)

# (network, address of the wrong size, words the reason must contain)
WRONG_LENGTH: tuple[tuple[str, str, str], ...] = (
    ("BTC", "YZJHGsGEnxB8f56EjSE4JJU49oVGc5dv", "decodes to 20 bytes"),  # bip-utils invalid vector
    ("BTC", "bc1pw5dgrnzv", "not a well-formed segwit address"),  # BIP-350: 1-byte program
    ("BTC", "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", "not a well-formed segwit address"),  # BIP-350
    ("BTC", "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y", "40-byte"),
    ("ERC20", "0x52908400098527886E0F7030069857D2E4169EE", "39 hexadecimal characters"),
    ("ETC", "0x52908400098527886E0F7030069857D2E4169EE77", "41 hexadecimal characters"),
    ("XLM", "GAAZI4TCR3TY5OJHCTJC2A4QSY6CJWJH5IAJTGKIN2ER7LBNVKOCCWN", "56 characters"),
    ("TON", "EQCD39VS5jcptHL8vMjEXrzGaRcCVYto7HUn4bpAOg8xqB2", "48 characters"),
    ("TON", "0:" + "ab" * 31, "62 hexadecimal characters"),
    ("EOS", "abcdefghijklm", "13 characters long"),
    ("ALGO", "VCMJKWOY5P5P7SKMZFFOCEROPJCZOTIJMNIYNUCKH7LRO45JMJP6UYBIJ", "57 characters long"),
    ("NEAR", "a", "1 character long"),
    ("NEAR", "a" * 65, "65 characters long"),
    (
        "XMR",
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3",
        "94",
    ),
    ("SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTD", "decodes to 30 bytes"),
    ("DOT", "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6S", "SS58"),
)
