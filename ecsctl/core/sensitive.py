"""What looks sensitive, decided in one place for validate (W7001), the plan's masking, saved
plan files, error messages and the state file.

A value is *sensitive-looking* when

* it is the value of a name that suggests a secret (:func:`sensitive_name`): an environment
  variable ``{name, value}`` (or ``{NAME: value}``), a tag ``{key, value}``, or any mapping key
  with a scalar value (``dockerLabels.password``, ``logConfiguration.options.splunk-token``);
* it is an argument of ``command`` / ``entryPoint`` that follows or sets an option with such a
  name (``--db-password X``, ``--db-password=X``), or a shell string that does;
* its text is an AWS access key id, a private key, or a URL with a password
  (``postgres://user:pass@host``), wherever it is; under a ``{name, value}`` pair also a long
  random-looking token;
* it is already a digest written by :class:`Sealer` (``<sensitive:hmac-sha256:…>``).

References are not values: ``secrets[].valueFrom``, ``credentialsParameter`` and ARNs are shown
as they are.  ``find_sensitive`` yields each such value with its path and the reason;
``redact`` returns a copy with each replaced.  Everything else (masking for people, digests for
the state file) is built on these two.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator

SENSITIVE = "(sensitive)"

# -- names --------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|(?:^|_)PASS(?:_|$)|(?:^|_)PWD(?:_|$)|SECRET|TOKEN|CREDENTIAL|AUTH|^KEY$"
    r"|(?:API|PRIVATE|ACCESS|SIGNING|ENCRYPTION|MASTER|SESSION|LICEN[CS]E|CLIENT|SSH|HMAC|JWT|WEBHOOK)_?KEY",
    re.IGNORECASE,
)
# names that hold no secret even though they sound like one: references, places and switches
_NON_SECRET_SUFFIX = re.compile(
    r"(_ARN|_PATH|_FILE|_URL|_URI|_ENDPOINT|_HOST|_REGION|_ENABLED|_TTL|_HEADER|_TYPE|_MODE|_NAME)$", re.IGNORECASE
)
# keys whose values are references to a secret, never the secret
REFERENCE_KEYS = frozenset({"valueFrom", "credentialsParameter"})


@lru_cache(maxsize=4096)
def sensitive_name(name: str) -> bool:
    """Whether a variable, label, option or field called ``name`` probably holds a secret.

    >>> [sensitive_name(n) for n in ("DB_PASSWD", "MYSQL_PWD", "splunk-token", "DB_PASSWORD_ARN", "PWD", "LOG_LEVEL")]
    [True, True, True, False, False, False]
    """
    flat = re.sub(r"[-.\s]", "_", name)
    if flat.upper() == "PWD":  # the shell's working directory
        return False
    return bool(_SECRET_NAME.search(flat)) and not _NON_SECRET_SUFFIX.search(flat)


# -- values -------------------------------------------------------------------------------------

ACCESS_KEY_RE = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
PRIVATE_KEY_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
URL_PASSWORD_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@")
TOKENISH_RE = re.compile(r"^[A-Za-z0-9+/=_\-]{32,}$")
# a password or token in a URL's query (JDBC's ?user=u&password=…, a presigned X-Amz-Signature=):
# a value of 6 characters or more that is no placeholder ({token}, %s, YOUR_TOKEN, changeme …)
_QUERY_SECRET = re.compile(r"[?&;](?:password|passwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret"
                           r"|x-amz-signature|x-amz-security-token|signature)=([^&#\s'\"]{6,})", re.IGNORECASE)
_QUERY_PLACEHOLDER = re.compile(r"^[$<{%]|^(?:your|replace|change|example|dummy|xxx)|^\d+$|^(?:true|false)$",
                                re.IGNORECASE)
# tokens that say what they are (the providers' documented prefixes) and an HTTP authorization
# header written out; ``$VAR``, ``${…}`` and ``<…>`` are references, not values
_SHAPED = (
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}|\bgithub_pat_[A-Za-z0-9_]{22,}"), "its value looks like a GitHub token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "its value looks like a Slack token"),
    (re.compile(r"hooks\.slack\.com/services/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+"), "its value is a Slack webhook URL"),
    (re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"), "its value looks like a Stripe secret key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "its value looks like a Google API key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "its value looks like a JSON Web Token"),
    (re.compile(r"\bauthorization\s*:\s*(?:bearer|basic|token|bot)\s+(?![$<'\"\s])\S{8,}", re.IGNORECASE),
     "its value holds an HTTP Authorization header"),
)
DIGEST_PREFIX = "<sensitive:hmac-sha256:"
DIGEST_RE = re.compile(r"<sensitive:hmac-sha256:[0-9a-f]{32}>")
# values that are clearly not secrets even under a secret-sounding name (W7001 does not warn)
PLACEHOLDER_RE = re.compile(r"^(\$\{.*\}|<.*>|changeme|none|null|true|false|disabled|enabled|\d{1,6})$", re.IGNORECASE)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character.

    >>> round(entropy("aaaa"), 2), round(entropy("abcd"), 2)
    (0.0, 2.0)
    """
    counts = Counter(text)
    n = len(text)
    return 0.0 - sum(c / n * math.log2(c / n) for c in counts.values())


def is_digest(value: Any) -> bool:
    return isinstance(value, str) and DIGEST_RE.fullmatch(value) is not None


def text_reason(value: Any) -> str | None:
    """Why a string looks sensitive wherever it appears (its text alone), or None."""
    if not isinstance(value, str) or len(value) < 8:
        return None
    if ACCESS_KEY_RE.search(value):
        return "its value looks like an AWS access key id"
    if PRIVATE_KEY_RE.search(value):
        return "its value is a private key"
    if "://" in value and URL_PASSWORD_RE.search(value):
        return "its value is a URL with a password"
    for pattern, reason in _SHAPED:
        if pattern.search(value):
            return reason
    if "=" in value and any(not _QUERY_PLACEHOLDER.match(m.group(1)) for m in _QUERY_SECRET.finditer(value)):
        return "its value is a URL with a password or token in its query"
    if value.startswith(DIGEST_PREFIX) and is_digest(value):
        return "its value is the digest of a sensitive value"
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool) and value != ""


def secret_reason(name: Any, value: Any, tokens: bool = True) -> str | None:
    """Why the variable ``name=value`` looks like a secret, or None (``tokens``: a long
    random-looking value is one too, as it is for environment variables).

    >>> secret_reason("DB_PASSWORD", "hunter2")
    "its name 'DB_PASSWORD' suggests a secret"
    >>> secret_reason("REGION", "AKIAIOSFODNN7EXAMPLE")
    'its value looks like an AWS access key id'
    >>> secret_reason("LOG_LEVEL", "debug") is None
    True
    """
    if not _scalar(value):
        return None
    reason = text_reason(value)
    if reason:
        return reason
    if isinstance(name, str) and sensitive_name(name):
        return f"its name '{name}' suggests a secret"
    if tokens and isinstance(value, str) and TOKENISH_RE.match(value) and entropy(value) >= 4.0 and any(ch.isdigit() for ch in value):
        return "its value looks like a random token"
    return None


# -- command arguments --------------------------------------------------------------------------

ARGUMENT_KEYS = frozenset({"command", "entryPoint"})
_FLAG = re.compile(r"^--?([A-Za-z][\w.-]*)$")
_FLAG_VALUE = re.compile(r"^--?([A-Za-z][\w.-]*)=(.+)$", re.DOTALL)
# curl's -u/--user and -U/--proxy-user (wget's --user, --proxy-user) take user:password: after
# curl or wget in the same command, such an option's value (attached, -uadmin:pw; after short
# flags, -fsSu; or --user=) with a password written out is a secret; a $VAR password is a
# reference, and a URL (redis://host:6379) no password
_HTTP_CLIENTS = frozenset({"curl", "wget"})
# the MySQL clients take the password attached to -p (-pPASSWORD; a bare -p asks for it)
_MYSQL_CLIENTS = frozenset({"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mariadb", "mariadb-dump", "mariadb-admin"})
_MYSQL_PASSWORD = re.compile(r"^-p(?![$\s])\S")
_USER_OPTION = re.compile(r"^(?:--(?:proxy-)?user(?:=(.*))?|-[A-Za-z]*[uU](.*))$", re.DOTALL)
_CREDENTIALS = re.compile(r"^(?!.*://)[^\s:]*:(?![$\s]).+$", re.DOTALL)
_SHELL_SEGMENT = re.compile(r"&&|\|\||[;&|\n]")


def _credentials_at(words: list) -> tuple[int, str] | None:
    """``(index, what)`` of the word of one command that holds curl's or wget's user:password,
    or a MySQL client's -pPASSWORD, if one does (``what``: how to say so)."""
    start = _program_at(words)
    client = words[start].rsplit("/", 1)[-1] if start is not None else None
    if client not in _HTTP_CLIENTS and client not in _MYSQL_CLIENTS:
        return None  # `docker run --name mysql -p3306:3306`: the client is a name there, not the program
    for i, word in enumerate(words[start + 1:], start + 1):
        if not isinstance(word, str):
            continue
        if client in _MYSQL_CLIENTS:
            if _MYSQL_PASSWORD.match(word):
                return i, f"a password for {client} (-pPASSWORD)"
            continue
        m = _USER_OPTION.match(word)
        if m is None:
            continue
        attached = m.group(1) if word.startswith("--") else m.group(2)
        if attached:
            if _CREDENTIALS.match(attached):
                return i, _USER_PASSWORD
        elif i + 1 < len(words) and isinstance(words[i + 1], str) and _CREDENTIALS.match(words[i + 1]):
            return i + 1, _USER_PASSWORD
    return None


_USER_PASSWORD = "a user and a password for curl or wget (-u user:password)"
# words before a command's program: Docker's health-check forms, and the wrappers that run one
_LAUNCHERS = frozenset({"CMD", "CMD-SHELL", "exec", "env", "sudo", "time", "nice", "nohup", "command"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")


def _program_at(words: list) -> int | None:
    """The index of a command's program: its first word that is no launcher, flag of one, or
    ``NAME=value`` setting (``env A=1 sudo -E mysql …`` → mysql)."""
    for i, word in enumerate(words):
        if not isinstance(word, str):
            return None
        if word in _LAUNCHERS or _ASSIGNMENT.match(word) or (i and word.startswith("-")):
            continue
        return i
    return None


def _shell_credentials(text: str) -> str | None:
    """What a shell string passes curl or wget (a user:password: ``curl -u admin:pw …``) or a
    MySQL client (a password: ``mysql -u root -ppw``), if it does."""
    import shlex

    for segment in _SHELL_SEGMENT.split(text):
        try:
            words = shlex.split(segment)
        except ValueError:  # an unbalanced quote: the words as written
            words = segment.split()
        found = _credentials_at(words)
        if found is not None:
            return found[1]
    return None


# inside a shell string: ``--name value``, ``--name=value`` or ``NAME=value``; ``$VAR`` is a reference
_SHELL_SETTING = re.compile(r"(?:^|[\s;&|(])(?:--?([A-Za-z][\w.-]*)(?:=|\s+)|([A-Za-z_]\w*)=)(?![-$\s'\"])\S")


def _argument_reasons(args: list) -> Iterator[tuple[int, str]]:
    follows: str | None = None
    credentials, credential = _credentials_at(args) or (None, "")
    for i, arg in enumerate(args):
        if not isinstance(arg, str):
            if follows is not None and _scalar(arg):  # ["--db-password", 48151623]: ECS refuses the type, not the secret
                yield i, f"it follows the option '{follows}'"
            follows = None
            continue
        if follows is not None and not arg.startswith("-"):
            yield i, f"it follows the option '{follows}'"
            follows = None
            continue
        follows = None
        flag, setting = _FLAG.match(arg), _FLAG_VALUE.match(arg)
        if flag and sensitive_name(flag.group(1)):
            follows = arg
        elif i == credentials:
            yield i, f"it is {credential}"
        elif setting and sensitive_name(setting.group(1)):
            yield i, f"it sets the option '{arg.split('=', 1)[0]}'"
        elif reason := text_reason(arg):
            yield i, reason
        elif any(ch.isspace() for ch in arg):
            if what := _shell_credentials(arg):
                yield i, f"it passes {what} in a shell command"
                continue
            for m in _SHELL_SETTING.finditer(arg):
                name = m.group(1) or m.group(2)
                if sensitive_name(name):
                    yield i, f"it sets '{name}' in a shell command"
                    break


# -- templates ----------------------------------------------------------------------------------

# strings holding JSON that becomes a request at run time: an EventBridge input transformer's
# ``inputTemplate`` (``{"containerOverrides": [{"environment": [{"name": …, "value": …}]}]}``,
# with ``<placeholders>``, so not always valid JSON): its ``name``/``value`` pairs are read as
# the environment they become
TEMPLATE_KEYS = frozenset({"inputTemplate"})
_JSON_STRING = r'"((?:[^"\\]|\\.)*)"'
_PAIR = re.compile(r'"name"\s*:\s*' + _JSON_STRING + r'\s*,\s*"value"\s*:\s*' + _JSON_STRING
                   + r'|"value"\s*:\s*' + _JSON_STRING + r'\s*,\s*"name"\s*:\s*' + _JSON_STRING)


def _template(text: str, path: tuple, replace: Callable[[Hit], Any] | None, hits: list[Hit]) -> str:
    """Each ``"name": N, "value": V`` of a template whose V looks secret is a hit (its ``value``
    the text between the quotes); with ``replace`` the text comes back with each replaced."""
    out, last = [], 0
    for m in _PAIR.finditer(text):
        name, value, start = (m.group(1), m.group(2), m.start(2)) if m.group(1) is not None else (m.group(4), m.group(3), m.start(3))
        reason = secret_reason(name, value)
        if not reason:
            continue
        hit = Hit(path, reason, "environment", name, value)
        hits.append(hit)
        if replace is not None:
            out += [text[last:start], str(replace(hit))]
            last = start + len(value)
    if replace is None or not out:
        return text
    return "".join(out) + text[last:]


# -- the walk -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One sensitive-looking value: ``path`` into the walked value (keys and list indexes),
    ``where`` says what holds it (``environment``, ``label``, ``option``, ``tag``, ``argument``,
    ``field``), ``name`` the variable, key or option it belongs to."""

    path: tuple
    reason: str
    where: str
    name: str
    value: Any


_WHERE_BY_PARENT = {"dockerLabels": "label", "options": "option", "environment": "environment"}


def _plain(value: Any) -> bool:
    """A value the walk would return as it is: not a container, and no string ``text_reason`` reads."""
    return value is None or isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) < 8)


def _walk(node: Any, path: tuple, parent: Any, replace: Callable[[Hit], Any] | None, hits: list[Hit]) -> Any:
    """Find the hits under ``node``; with ``replace``, return a copy with each hit replaced."""
    if isinstance(node, dict):
        out = (dict() if isinstance(node, SealedSpec) else type(node)()) if replace is not None else None
        pair_key = "name" if "name" in node else "key" if "key" in node else None
        pair_name = node.get(pair_key) if pair_key else None
        for key, value in node.items():
            hit = None
            if key == "value" and isinstance(pair_name, str):
                reason = secret_reason(pair_name, value, tokens=parent == "environment")
                if reason:
                    where = "environment" if parent == "environment" else "tag" if pair_key == "key" else "field"
                    hit = Hit(path + (key,), reason, where, pair_name, value)
            elif (isinstance(key, str) and key not in REFERENCE_KEYS and key not in ("name", "key") and _scalar(value)
                  and sensitive_name(key) and not (isinstance(value, str) and value.startswith("arn:"))):
                hit = Hit(path + (key,), f"its name '{key}' suggests a secret", _WHERE_BY_PARENT.get(parent, "field"), key, value)
            elif key in ARGUMENT_KEYS and isinstance(value, str):  # a command written as one string (a schema error)
                reason = next((r for _, r in _argument_reasons([value])), None)
                if reason:
                    hit = Hit(path + (key,), reason, "argument", "0", value)
            if hit is not None:
                hits.append(hit)
                new = replace(hit) if replace is not None else value
            elif key in ARGUMENT_KEYS and isinstance(value, list):
                new = _arguments(value, path + (key,), replace, hits)
            elif key in TEMPLATE_KEYS and isinstance(value, str):
                new = _template(value, path + (key,), replace, hits)
            elif _plain(value):
                new = value
            else:
                new = _walk(value, path + (key,), key, replace, hits)
            if out is not None:
                out[key] = new
        return out if out is not None else node
    if isinstance(node, (list, tuple)):
        if replace is None:  # finding only: no copy to build
            for i, v in enumerate(node):
                if not _plain(v):
                    _walk(v, path + (i,), parent, None, hits)
            return node
        items = [_walk(v, path + (i,), parent, replace, hits) for i, v in enumerate(node)]
        return type(node)(items)
    if isinstance(node, str):
        reason = text_reason(node)
        if reason:
            hit = Hit(path, reason, "field", str(parent) if parent is not None else "", node)
            hits.append(hit)
            return replace(hit) if replace is not None else node
    return node


def _arguments(args: list, path: tuple, replace: Callable[[Hit], Any] | None, hits: list[Hit]) -> Any:
    found = dict(_argument_reasons(args))
    out = []
    for i, arg in enumerate(args):
        if i in found:
            hit = Hit(path + (i,), found[i], "argument", str(i), arg)
            hits.append(hit)
            out.append(replace(hit) if replace is not None else arg)
        else:
            out.append(_walk(arg, path + (i,), path[-1] if path else None, replace, hits))
    return type(args)(out) if replace is not None else args


def find_sensitive(value: Any, path: tuple = ()) -> list[Hit]:
    """Every sensitive-looking value under ``value``, in document order."""
    hits: list[Hit] = []
    _walk(value, path, None, None, hits)
    return hits


def redact(value: Any, replace: Callable[[Hit], Any]) -> Any:
    """A copy of ``value`` with each sensitive-looking value replaced by ``replace(hit)``;
    containers keep their types, the input is not changed."""
    return _walk(value, (), None, replace, [])


def mask(value: Any) -> Any:
    """``value`` for people: every sensitive-looking value (and every digest) is ``(sensitive)``."""
    return redact(value, lambda hit: SENSITIVE)


def sensitive_paths(value: Any) -> set[tuple]:
    return {hit.path for hit in find_sensitive(value)}


# -- digests for the state file -----------------------------------------------------------------


class Sealer:
    """Replaces sensitive-looking values with a keyed digest (HMAC-SHA256, 128 bits shown):
    enough to tell whether a value changed, useless to read it back without guessing it.
    The key is random per state and kept in the state's meta table."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a digest key needs at least 16 bytes")
        self._key = key

    def digest(self, value: Any) -> str:
        data = json.dumps(value, ensure_ascii=True, sort_keys=True).encode("ascii")
        return DIGEST_PREFIX + hmac.new(self._key, data, hashlib.sha256).hexdigest()[:32] + ">"

    def _replace(self, hit: Hit) -> Any:
        return hit.value if is_digest(hit.value) else self.digest(hit.value)

    def seal(self, value: Any) -> Any:
        """``value`` with every sensitive-looking value replaced by its digest (digests stay)."""
        return redact(value, self._replace)

    __call__ = seal


class SealedSpec(dict):
    """A spec read from the state that holds digests, with the sealer that made them.

    Comparing it with a plain spec compares like with like: the plain one is sealed first, so
    a spec from the manifests equals the stored one exactly when every secret is unchanged.
    ``sealer_of(spec)`` hands the sealer to the plan's diff for the same purpose.
    """

    def __init__(self, data: Any = (), sealer: Sealer | None = None) -> None:
        super().__init__(data)
        self.sealer = sealer

    def __eq__(self, other: object) -> bool:
        if isinstance(other, dict) and not isinstance(other, SealedSpec) and self.sealer is not None:
            other = self.sealer.seal(other)
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # dicts are not hashable

    def __reduce__(self):
        return (SealedSpec, (dict(self), self.sealer))


def sealer_of(spec: Any) -> Sealer | None:
    """The sealer a spec read from the state carries (``None`` for a spec without digests)."""
    return spec.sealer if isinstance(spec, SealedSpec) else None  # type: ignore[return-value]


__all__ = [
    "ARGUMENT_KEYS",
    "DIGEST_PREFIX",
    "PLACEHOLDER_RE",
    "SENSITIVE",
    "Hit",
    "Sealer",
    "SealedSpec",
    "entropy",
    "find_sensitive",
    "is_digest",
    "mask",
    "redact",
    "sealer_of",
    "secret_reason",
    "sensitive_name",
    "sensitive_paths",
    "text_reason",
]
