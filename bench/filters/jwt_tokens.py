#!/usr/bin/env python3
"""Keys and JSON Web Tokens for the bench suite's jwt_* scenarios.

    python3 bench/filters/jwt_tokens.py OUT_DIR [--tokens 1000] [--lifetime 86400]

writes into OUT_DIR (created):

    rsa_key.pem        RSA 2048 private key (openssl genpkey); never leaves OUT_DIR
    rsa_pub.pem        its public key (PEM): haproxy 2.6's jwt_verify reads this
                       (its docs say "certificate", but 2.6 loads the file with
                       PEM_read_bio_PUBKEY and refuses a certificate: -5)
    rsa_other_key.pem  a second RSA key, for tokens that must fail
    jwks_rs256.json    JWKS (RFC 7517) with the RSA public key: kty RSA, n, e, kid, alg RS256
    jwks_hs256.json    JWKS with the HMAC secret: kty oct, k, kid, alg HS256
    hs256_secret.txt   the HMAC secret as text (its ASCII bytes are the key)
    tokens.json        the tokens (below)

tokens.json: {"issuer", "audience", "rs256": good token, "hs256": good token,
"rs256_list": [N distinct good RS256 tokens], "hs256_list": [N distinct good
HS256 tokens], "bad": {name: token that every
peer must refuse}} where bad holds a wrong signature, an expired token, a
wrong audience, a wrong issuer, alg "none" and, per algorithm, a token signed
with another key.

Python 3 standard library plus the openssl CLI. Every RS256 signature is
RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 3.3). The first is made by
`openssl dgst -sha256 -sign`; the others are computed here from the key's
parameters (read with `openssl rsa -text`) with the CRT, which is much faster
than one openssl process per token. PKCS#1 v1.5 signatures are deterministic,
so the first token is signed both ways and the two must be identical, and one
token is verified with `openssl dgst -verify`: a mistake in the Python
signer fails loudly instead of producing tokens nobody accepts.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import time

ISSUER = "https://issuer.bench.example"
AUDIENCE = "bench-api"
RSA_KID = "bench-rs1"
HMAC_KID = "bench-hs1"

# DER prefix of the DigestInfo for SHA-256 (RFC 8017 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class TokenError(Exception):
    pass


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def openssl(args: list, stdin: bytes = b"") -> bytes:
    try:
        p = subprocess.run(["openssl"] + args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    except FileNotFoundError:
        raise TokenError("openssl CLI not found")
    except subprocess.TimeoutExpired:
        raise TokenError(f"openssl {' '.join(args)} took more than 60 s")
    if p.returncode != 0:
        raise TokenError(f"openssl {' '.join(args)} failed: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout


class RsaKey:
    """The private key's parameters, from `openssl rsa -text -noout`."""

    FIELDS = {"modulus": "n", "publicExponent": "e", "privateExponent": "d", "prime1": "p",
              "prime2": "q", "exponent1": "dp", "exponent2": "dq", "coefficient": "qinv"}

    def __init__(self, pem_path: str) -> None:
        text = openssl(["rsa", "-in", pem_path, "-text", "-noout"]).decode()
        vals: dict = {}
        cur = None
        for line in text.splitlines():
            m = re.match(r"^(\w+):\s*(.*)$", line)
            if m and m.group(1) in self.FIELDS:
                cur = self.FIELDS[m.group(1)]
                rest = m.group(2).strip()
                if cur == "e":  # "publicExponent: 65537 (0x10001)"
                    vals[cur] = int(rest.split()[0])
                    cur = None
                else:
                    vals[cur] = ""
                continue
            if cur and re.match(r"^\s+[0-9a-f:]+$", line):
                vals[cur] += line.strip().replace(":", "")
            elif not line.startswith(" "):
                cur = None
        missing = [k for k in self.FIELDS.values() if k not in vals]
        if missing:
            raise TokenError(f"could not read {missing} from openssl rsa -text")
        for k, v in vals.items():
            setattr(self, k, v if isinstance(v, int) else int(v, 16))
        self.size = (self.n.bit_length() + 7) // 8
        if self.p * self.q != self.n:
            raise TokenError("openssl rsa -text: p * q != n")

    def sign_sha256(self, message: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 (RFC 8017 8.2.1) with SHA-256, CRT exponentiation."""
        t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        em = b"\x00\x01" + b"\xff" * (self.size - len(t) - 3) + b"\x00" + t
        m = int.from_bytes(em, "big")
        s1 = pow(m, self.dp, self.p)
        s2 = pow(m, self.dq, self.q)
        h = (self.qinv * (s1 - s2)) % self.p
        s = s2 + h * self.q
        return s.to_bytes(self.size, "big")


def jws_input(header: dict, payload: dict) -> str:
    enc = lambda d: b64url(json.dumps(d, separators=(",", ":")).encode())
    return f"{enc(header)}.{enc(payload)}"


def make_assets(out_dir: str, n_tokens: int = 1000, lifetime_s: int = 86400,
                issuer: str = ISSUER, audience: str = AUDIENCE) -> dict:
    """Writes the files listed in the module doc into out_dir; returns
    {"dir", "issuer", "audience", paths..., "rs256", "hs256", "rs256_list", "bad"}."""
    os.makedirs(out_dir, exist_ok=True)
    p = lambda name: os.path.join(out_dir, name)
    key_pem, pub_pem = p("rsa_key.pem"), p("rsa_pub.pem")
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key_pem])
    os.chmod(key_pem, 0o600)
    openssl(["pkey", "-in", key_pem, "-pubout", "-out", pub_pem])
    key = RsaKey(key_pem)
    # A second key: tokens it signs carry our kid but must fail verification.
    other_pem = p("rsa_other_key.pem")
    openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other_pem])
    os.chmod(other_pem, 0o600)
    other = RsaKey(other_pem)

    secret = b64url(secrets.token_bytes(32))  # 43 chars of [A-Za-z0-9_-]: safe in any config
    with open(p("hs256_secret.txt"), "w") as f:
        f.write(secret)
    os.chmod(p("hs256_secret.txt"), 0o600)
    jwks_rs = {"keys": [{"kty": "RSA", "use": "sig", "kid": RSA_KID, "alg": "RS256",
                         "n": b64url(int_bytes(key.n)), "e": b64url(int_bytes(key.e))}]}
    jwks_hs = {"keys": [{"kty": "oct", "use": "sig", "kid": HMAC_KID, "alg": "HS256",
                         "k": b64url(secret.encode())}]}
    for name, doc in (("jwks_rs256.json", jwks_rs), ("jwks_hs256.json", jwks_hs)):
        with open(p(name), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")

    now = int(time.time())
    rs_head = {"alg": "RS256", "typ": "JWT", "kid": RSA_KID}
    hs_head = {"alg": "HS256", "typ": "JWT", "kid": HMAC_KID}

    def claims(sub: str, **over) -> dict:
        c = {"iss": issuer, "aud": audience, "sub": sub, "iat": now - 60, "exp": now + lifetime_s}
        c.update(over)
        return c

    def rs256(payload: dict, k: RsaKey = key) -> str:
        si = jws_input(rs_head, payload)
        return f"{si}.{b64url(k.sign_sha256(si.encode()))}"

    def hs256(payload: dict, sec: str = secret) -> str:
        si = jws_input(hs_head, payload)
        return f"{si}.{b64url(hmac.new(sec.encode(), si.encode(), hashlib.sha256).digest())}"

    # Cross-check the Python signer against openssl, both ways.
    first_in = jws_input(rs_head, claims("user-0"))
    by_openssl = openssl(["dgst", "-sha256", "-sign", key_pem], first_in.encode())
    if by_openssl != key.sign_sha256(first_in.encode()):
        raise TokenError("RS256 signature computed in Python differs from openssl dgst -sign")
    sig_path = p("check.sig")
    with open(sig_path, "wb") as f:
        f.write(by_openssl)
    out = openssl(["dgst", "-sha256", "-verify", pub_pem, "-signature", sig_path], first_in.encode())
    if b"Verified OK" not in out:
        raise TokenError(f"openssl dgst -verify did not verify the first token: {out!r}")
    os.unlink(sig_path)

    rs_list = [f"{first_in}.{b64url(by_openssl)}"]
    rs_list += [rs256(claims(f"user-{i}")) for i in range(1, n_tokens)]
    hs_list = [hs256(claims(f"user-{i}")) for i in range(n_tokens)]
    good_rs = rs256(claims("bench-user"))
    good_hs = hs256(claims("bench-user"))
    tampered = good_rs[:-6] + ("AAAAAA" if not good_rs.endswith("AAAAAA") else "BBBBBB")
    bad = {
        "rs256_bad_signature": tampered,
        "rs256_other_key": rs256(claims("bench-user"), other),
        "rs256_expired": rs256(claims("bench-user", iat=now - 7200, exp=now - 3600)),
        "rs256_wrong_audience": rs256(claims("bench-user", aud="someone-else")),
        "rs256_wrong_issuer": rs256(claims("bench-user", iss="https://evil.example")),
        "alg_none": jws_input({"alg": "none", "typ": "JWT"}, claims("bench-user")) + ".",
        "hs256_other_secret": hs256(claims("bench-user"), b64url(secrets.token_bytes(32))),
        "hs256_expired": hs256(claims("bench-user", iat=now - 7200, exp=now - 3600)),
        "not_a_token": "abc.def",
    }
    tokens = {"issuer": issuer, "audience": audience, "created": now, "expires": now + lifetime_s,
              "rs256": good_rs, "hs256": good_hs, "rs256_list": rs_list, "hs256_list": hs_list, "bad": bad}
    with open(p("tokens.json"), "w") as f:
        json.dump(tokens, f, indent=1)
        f.write("\n")
    return {"dir": out_dir, "rsa_pub": pub_pem, "jwks_rs256": p("jwks_rs256.json"),
            "jwks_hs256": p("jwks_hs256.json"), "hs256_secret": secret,
            "hs256_secret_file": p("hs256_secret.txt"), **tokens}


def main(argv: list) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--tokens", type=int, default=1000, help="distinct RS256 tokens (default 1000)")
    ap.add_argument("--lifetime", type=int, default=86400, help="token lifetime in s (default 1 day)")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    try:
        a = make_assets(args.out_dir, max(1, args.tokens), args.lifetime)
    except TokenError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {a['dir']}: RSA 2048 keys, 2 JWKS, HS256 secret, "
          f"{len(a['rs256_list'])} RS256 and {len(a['hs256_list'])} HS256 tokens in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
