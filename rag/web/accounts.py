"""Staff accounts: a JSON file of salted scrypt hashes, made by `rag staff add NAME`.

Takes the file's path (Settings.staff_path()); gives add, remove, names and
verify. Each account keeps its own salt and scrypt parameters beside the hash,
so stronger parameters later still verify the older entries. Passwords are
compared with hmac.compare_digest, and an unknown name costs the same scrypt as
a known one, so timing tells neither. The file is written whole (temp file in the
same folder, fsync, os.replace) with mode 0600, and starts with a format version
checked on load. No default account: without one the staff side is off.
Standard library only, so the CLI needs nothing of the web extras.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rag.errors import AccountError

FORMAT = "newsrag-staff-1"
# scrypt's cost: 2**14 x 8 is 16 MB and about 50 ms a check, what hashlib's
# documentation and OWASP give as the interactive minimum
N, R, P, DKLEN = 2 ** 14, 8, 1, 32
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
NAME_RE = re.compile(r"^[\w.@-]{1,64}$")


@dataclass(frozen=True)
class Account:
    name: str
    salt: str  # hex
    n: int
    r: int
    p: int
    hash: str  # hex
    created: str

    def stamp(self) -> str:
        """Changes when the password does: a session opened before does not outlive it."""
        return self.hash[:16]


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = DKLEN) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=max(64 * 1024 * 1024, 256 * n * r))


def make_account(name: str, password: str) -> Account:
    salt = secrets.token_bytes(16)
    return Account(name, salt.hex(), N, R, P, _scrypt(password, salt, N, R, P).hex(),
                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def name_problem(name: str) -> str | None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        return "a staff name is 1 to 64 letters, digits, '_', '-', '.' or '@' (no spaces)"
    return None


def password_problem(password: str) -> str | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password must be at most {MAX_PASSWORD} characters"
    return None


_DUMMY = Account("", "00" * 16, N, R, P, "00" * DKLEN, "")


class Accounts:
    def __init__(self, path):
        self.path = Path(path)
        self._seen: tuple | None = None  # (mtime_ns, size) of the file last read
        self._kept: dict[str, Account] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------ reading

    def load(self) -> dict[str, Account]:
        """The accounts, read again only when the file changed (a `rag staff add`
        while the app runs takes effect at the next request). No file: none."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            with self._lock:
                self._seen, self._kept = None, {}
            return {}
        except OSError as e:
            raise AccountError(f"cannot read the staff accounts file: {e.strerror or type(e).__name__}") from None
        with self._lock:
            if self._seen == (st.st_mtime_ns, st.st_size):
                return self._kept
        kept = self._read()
        with self._lock:
            self._seen, self._kept = (st.st_mtime_ns, st.st_size), kept
        return kept

    def _read(self) -> dict[str, Account]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except OSError as e:
            raise AccountError(f"cannot read the staff accounts file: {e.strerror or type(e).__name__}") from None
        except ValueError:
            raise AccountError("the staff accounts file is not valid JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, dict) else None
            raise AccountError(f"the staff accounts file has format {found!r}, expected {FORMAT!r}")
        out = {}
        for d in doc.get("accounts") or []:
            try:
                a = Account(**{k: d[k] for k in Account.__dataclass_fields__})
                bytes.fromhex(a.salt), bytes.fromhex(a.hash)
                ok = all(isinstance(v, int) and v > 0 for v in (a.n, a.r, a.p)) and name_problem(a.name) is None
            except (KeyError, TypeError, ValueError):
                ok = False
            if not ok:
                raise AccountError("the staff accounts file holds an entry that is not an account")
            out[a.name] = a
        return out

    def names(self) -> list[str]:
        return sorted(self.load())

    def verify(self, name: str, password: str) -> Account | None:
        """The account when `password` is its password, else None (same cost either way)."""
        found = self.load().get(name) if isinstance(name, str) else None
        a = found or _DUMMY
        if not isinstance(password, str) or len(password) > MAX_PASSWORD:
            password = ""
        try:
            got = _scrypt(password, bytes.fromhex(a.salt), a.n, a.r, a.p, len(a.hash) // 2)
        except (ValueError, MemoryError):
            return None
        return found if hmac.compare_digest(got, bytes.fromhex(a.hash)) and found is not None else None

    # ------------------------------------------------------------ writing

    def add(self, name: str, password: str, replace: bool = False) -> Account:
        problem = name_problem(name) or password_problem(password)
        if problem:
            raise AccountError(problem)
        accounts = dict(self.load())
        if name in accounts and not replace:
            raise AccountError(f"staff account {name!r} exists (use --replace to set a new password)")
        accounts[name] = make_account(name, password)
        self._write(accounts)
        return accounts[name]

    def remove(self, name: str) -> None:
        accounts = dict(self.load())
        if name not in accounts:
            raise AccountError(f"no staff account {name!r}")
        del accounts[name]
        self._write(accounts)

    def _write(self, accounts: dict[str, Account]) -> None:
        from dataclasses import asdict

        doc = {"format": FORMAT, "accounts": [asdict(a) for _, a in sorted(accounts.items())]}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(doc, f, ensure_ascii=False, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise AccountError(f"cannot write the staff accounts file: {e.strerror or type(e).__name__}") from None
        with self._lock:
            self._seen = None
