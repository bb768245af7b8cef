"""The loader turns hostile and broken bytes into findings with positions, never exceptions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecsctl.core.manifest import loader
from ecsctl.core.manifest.loader import LoadResult, load_bytes


def _bomb(levels: int = 9) -> bytes:
    """The billion-laughs document: 9 aliases at each of 9 levels expand to 9**9 strings."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append(f"top: *l{levels - 1}")
    return ("\n".join(lines) + "\n").encode()


# (id, raw bytes, file name, [(rule, line, column, path, document)])
BROKEN = [
    ("yaml-unclosed-flow", b"a: 1\nb: [1, 2\nc: 3\n", "m.yaml", [("E0002", 3, 2, (), 0)]),
    ("yaml-bad-indent", b"a:\n  b: 1\n c: 2\n", "m.yaml", [("E0002", 3, 2, (), 0)]),
    ("yaml-unclosed-quote", b'a: "abc\n', "m.yaml", [("E0002", 2, 1, (), 0)]),
    ("json-trailing-comma", b'{\n  "a": 1,\n}\n', "m.json", [("E0002", 3, 1, (), 0)]),
    ("yaml-duplicate-key", b"a: 1\nb:\n  c: 1\n  c: 2\n", "m.yaml", [("E0008", 4, 3, ("b", "c"), 0)]),
    ("json-duplicate-key", b'{\n  "a": 1,\n  "b": {"c": 1, "c": 2}\n}\n', "m.json", [("E0008", 3, 17, ("b", "c"), 0)]),
    ("json-in-yaml-file-duplicate-key", b'{"a": 1, "a": 2}\n', "m.yaml", [("E0008", 1, 10, ("a",), 0)]),
    ("json-tabs-duplicate-key", b'{\n\t"a": 1,\n\t"a": 2\n}\n', "m.json", [("E0008", 3, 2, ("a",), 0)]),
    ("python-object-apply", b"a: !!python/object/apply:os.system ['echo hi']\n", "m.yaml", [("E0004", 1, 4, (), 0)]),
    ("python-name", b"a: 1\nb: !!python/name:os.system\n", "m.yaml", [("E0004", 2, 4, (), 0)]),
    ("billion-laughs", _bomb(), "m.yaml", [("E0005", 1, 1, (), 0)]),
    ("not-utf8", b"a: 1\nb: caf\xe9\n", "m.yaml", [("E0001", 2, 7, (), 0)]),
    ("not-utf8-first-byte", b"\xff\xfea: 1\n", "m.yaml", [("E0001", 1, 1, (), 0)]),
    ("empty", b"", "m.yaml", [("E0003", 1, 1, (), 0)]),
    ("whitespace-only", b"  \n\t\n\n", "m.yaml", [("E0003", 1, 1, (), 0)]),
    ("comments-only", b"# one\n# two\n", "m.yaml", [("E0003", 1, 1, (), 0)]),
    ("deep-json-5000", b"[" * 5000 + b"]" * 5000, "m.json", [("E0007", 1, 1, (), 0)]),
    ("deep-unclosed-5000", b"[" * 5000, "m.yaml", [("E0007", 1, 1, (), 0)]),
    ("second-document-duplicate", b"a: 1\n---\nb: 1\nb: 2\n", "m.yaml", [("E0008", 4, 1, ("b",), 1)]),
    ("second-document-malformed", b"a: 1\n---\nb: [1\n", "m.yaml", [("E0002", 4, 1, (), 1)]),
    # scalars that cannot become plain data (issue 13: each was an exit 3)
    ("int-tag-letters", b"a: 1\nx: !!int a\n", "m.yaml", [("E0017", 2, 4, (), 0)]),
    ("int-tag-empty-binary", b"x: !!int 0b\n", "m.yaml", [("E0017", 1, 4, (), 0)]),
    ("float-tag-letters", b"x: !!float a\n", "m.yaml", [("E0017", 1, 4, (), 0)]),
    ("bool-tag-maybe", b"x: !!bool maybe\n", "m.yaml", [("E0017", 1, 4, (), 0)]),
    ("yaml-nan", b"x: [1, .nan]\n", "m.yaml", [("E0017", 1, 8, (), 0)]),
    ("timestamp-tag", b"x: !!timestamp a\n", "m.yaml", [("E0004", 1, 4, (), 0)]),
    ("set-tag", b"x: !!set [a]\n", "m.yaml", [("E0004", 1, 4, (), 0)]),
    ("omap-tag", b"x: !!omap [{a: 1}]\n", "m.yaml", [("E0004", 1, 4, (), 0)]),
    ("yaml-int-4400-digits", b"x: " + b"1" * 4400 + b"\n", "m.yaml", [("E0017", 1, 4, (), 0)]),
    ("yaml-int-over-64-bits", b"x: 9223372036854775808\n", "m.yaml", [("E0017", 1, 4, (), 0)]),
    ("json-int-5000-digits", b'{"a": [' + b"9" * 5000 + b"]}", "m.json", [("E0017", 1, 8, (), 0)]),
    ("json-int-over-64-bits", b'{\n  "a": -9223372036854775809\n}', "m.json", [("E0017", 2, 8, (), 0)]),
    ("json-infinity", b'{"a": Infinity}', "m.json", [("E0017", 1, 7, (), 0)]),
    ("json-lone-surrogate-key", b'{"a": 1,\n "\\ud800": 2}', "m.json", [("E0001", 2, 3, (), 0)]),
    ("json-lone-low-surrogate-value", b'{"a": "x\\uDC00"}', "m.json", [("E0001", 1, 9, (), 0)]),
    ("json-high-then-high", b'{"a": "\\ud800\\ud800"}', "m.json", [("E0001", 1, 8, (), 0)]),
    ("yaml-boolean-key", b"a:\n  true: x\n", "m.yaml", [("E0018", 2, 3, ("a", "true"), 0)]),
    ("yaml-null-key", b"~: x\n", "m.yaml", [("E0018", 1, 1, ("~",), 0)]),
]


@pytest.mark.parametrize("raw, file, expected", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_input_becomes_findings(raw: bytes, file: str, expected: list) -> None:
    result = load_bytes(raw, file)
    got = [(f.rule, f.line, f.column, f.path, f.document) for f in result.findings]
    assert got == expected
    assert all(f.file == file and f.message for f in result.findings)


def test_a_tab_that_breaks_the_yaml_is_named() -> None:
    """PyYAML's C scanner says only "found character that cannot start any token"; the finding
    says the character is a tab."""
    [finding] = load_bytes(b"kind: Service\nmetadata:\n\tname: x\n", "m.yaml").findings
    assert (finding.rule, finding.line, finding.column) == ("E0002", 3, 1)
    assert finding.message.endswith("(a tab: YAML indents with spaces only)")


# (id, raw bytes, file name, the documents' data)
FINE = [
    ("utf8-bom", "\ufeffa: 1\n".encode(), "m.yaml", [{"a": 1}]),
    ("utf8-bom-json", '\ufeff{"a": 1}'.encode(), "m.json", [{"a": 1}]),
    ("scalar-document", b"hello\n", "m.yaml", ["hello"]),
    ("list-document", b"- a\n- b\n", "m.yaml", [["a", "b"]]),
    ("json-list", b"[1, 2]", "m.json", [[1, 2]]),
    ("multi-document", b"a: 1\n---\nb: 2\n---\nc: 3\n", "m.yaml", [{"a": 1}, {"b": 2}, {"c": 3}]),
    (
        "anchors-aliases-merge",
        b"base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\nl: [*b, *b]\n",
        "m.yaml",
        [{"base": {"x": 1, "y": 2}, "d": {"x": 1, "y": 3}, "l": [{"x": 1, "y": 2}, {"x": 1, "y": 2}]}],
    ),
    (
        "yes-no-on-off-stay-strings",
        b"a: yes\nb: no\nc: on\nd: off\ne: Yes\nf: true\ng: False\n",
        "m.yaml",
        [{"a": "yes", "b": "no", "c": "on", "d": "off", "e": "Yes", "f": True, "g": False}],
    ),
    ("dates-stay-strings", b"at: 2024-05-01T10:00:00\nd: 2024-05-01\n", "m.yaml", [{"at": "2024-05-01T10:00:00", "d": "2024-05-01"}]),
    ("json-with-tabs", b'{\n\t"a": {\n\t\t"b": [1,\t2]\n\t}\n}\n', "m.json", [{"a": {"b": [1, 2]}}]),
    ("flow-mapping-yaml", b"{a: 1, b: [x]}\n", "m.yaml", [{"a": 1, "b": ["x"]}]),
    ("crlf-line-endings", b"a: 1\r\nb: 2\r\n", "m.yaml", [{"a": 1, "b": 2}]),
    ("json-surrogate-pair", b'{"a": "\\ud83d\\ude00"}', "m.json", [{"a": "\U0001F600"}]),
    ("json-escaped-backslash-then-u", b'{"a": "\\\\ud800"}', "m.json", [{"a": "\\ud800"}]),
    ("int-64-bit-edges", b"a: 9223372036854775807\nb: -9223372036854775808\n", "m.yaml",
     [{"a": 2**63 - 1, "b": -2**63}]),
    ("explicit-str-int-tags", b"a: !!str 5\nb: !!int '7'\nc: !!float 1.5\n", "m.yaml", [{"a": "5", "b": 7, "c": 1.5}]),
]


@pytest.mark.parametrize("raw, file, data", [c[1:] for c in FINE], ids=[c[0] for c in FINE])
def test_fine_input_loads(raw: bytes, file: str, data: list) -> None:
    result = load_bytes(raw, file)
    assert result.findings == []
    assert [d.data for d in result.documents] == data
    assert [d.index for d in result.documents] == list(range(len(data)))


# (id, raw bytes, path, (line, column)): a mapping entry is found at its key, a list item at the item.
POSITIONS = [
    ("key", b"a: 1\nb:\n  c: 2\n", 0, ("b", "c"), (3, 3)),
    ("list-item", b"a:\n  - x\n  - y\n", 0, ("a", 1), (3, 5)),
    ("second-document", b"a: 1\n---\n# note\nb:\n  c: [1, 2]\n", 1, ("b", "c", 1), (5, 10)),
    ("third-document", b"a: 1\n---\nb: 2\n---\n\n\nc: 3\n", 2, ("c",), (7, 1)),
    ("missing-field-falls-back-to-parent", b"a:\n  b: 1\n", 0, ("a", "b", "zzz"), (2, 3)),
    ("merged-key", b"base: &b {x: 1}\nd:\n  <<: *b\n", 0, ("d", "x"), (1, 11)),
]


@pytest.mark.parametrize("raw, index, path, where", [c[1:] for c in POSITIONS], ids=[c[0] for c in POSITIONS])
def test_document_positions(raw: bytes, index: int, path: tuple, where: tuple) -> None:
    result = load_bytes(raw, "m.yaml")
    assert result.findings == []
    pos = result.documents[index].position(path)
    assert (pos.line, pos.column) == where


@pytest.mark.parametrize(
    "limit, raw, expected",
    [
        ("MAX_FILE_BYTES", b"a: 1\n" * 30, [("E0006", 1, 1, 0)]),
        # The document limit is per document: the first one is fine, the second too big.
        ("MAX_DOCUMENT_BYTES", b"a: 1\n---\n" + b"b: 1\n" * 20, [("E0006", 3, 1, 1)]),
    ],
    ids=["file", "document"],
)
def test_size_limits(monkeypatch: pytest.MonkeyPatch, limit: str, raw: bytes, expected: list) -> None:
    monkeypatch.setattr(loader, limit, 64)
    result = load_bytes(raw, "m.yaml")
    assert [(f.rule, f.line, f.column, f.document) for f in result.findings] == expected
    assert "64" in result.findings[0].message


def test_deep_yaml_nesting_is_refused() -> None:
    result = load_bytes(b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "m.yaml")
    assert [f.rule for f in result.findings] == ["E0007"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=512), suffix=st.sampled_from(["yaml", "json"]))
def test_any_bytes_load_without_raising(raw: bytes, suffix: str) -> None:
    result = load_bytes(raw, f"m.{suffix}")
    assert isinstance(result, LoadResult)
    assert result.documents or result.findings
    assert all(f.line >= 1 and f.column >= 1 for f in result.findings)


_YAMLISH = st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!?|>'\"#%@` \n\t0123")), max_size=200)


@settings(max_examples=200, deadline=None)
@given(text=_YAMLISH)
def test_yaml_looking_text_loads_without_raising(text: str) -> None:
    result = load_bytes(text.encode(), "m.yaml")
    assert isinstance(result, LoadResult)
    assert all(f.line >= 1 and f.column >= 1 for f in result.findings)


def test_documents_share_one_scan_for_anchors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading is linear in the number of documents: the whole text is searched for ``&`` once per
    file, not once per document (issue 13: 50,000 small documents took 18.6 s)."""
    scans = []
    real = loader._has_anchors
    monkeypatch.setattr(loader, "_has_anchors", lambda text: scans.append(len(text)) or real(text))
    result = load_bytes(b"a: &x 1\nb: *x\n---\n" * 2000, "m.yaml")
    assert len(result.documents) == 2000 and result.findings == []
    assert len(scans) == 1


def test_a_huge_file_is_refused_before_it_is_read(tmp_path) -> None:
    """A 1 GiB (sparse) file is E0006 from its size alone: it is never read into memory."""
    import tracemalloc

    from ecsctl.app.validate import Validator

    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(1024**3)
    tracemalloc.start()
    try:
        report = Validator().validate([str(big)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(f.rule, f.file) for f in report.findings] == [("E0006", str(big))]
    assert "1073741824 bytes" in report.findings[0].message
    assert peak < 64 * 1024**2


def test_standard_input_is_read_no_further_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from ecsctl.app.validate import TooLarge, read_manifest

    class Stdin:
        buffer = io.BytesIO(b"a: 1\n" * 100)

    monkeypatch.setattr(sys, "stdin", Stdin)
    with pytest.raises(TooLarge):
        read_manifest("-", limit=50)
    assert Stdin.buffer.tell() == 51  # the limit and one byte to know it is passed


def test_a_large_tree_loaded_on_every_core_keeps_every_position(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Validate deals a large tree to worker processes; the findings (and their order, lines and
    columns) are those of loading it in one process, JSON files and size refusals included."""
    import ecsctl.app.validate as validate

    good = "apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: p%d}\nspec: {type: String}\n"
    bad = "apiVersion: ecsctl/v1\nkind: Parameter\nmetadata: {name: q%d}\nspec:\n  type: String\n  valu: x\n"
    for i in range(12):
        (tmp_path / f"m{i:02d}.yaml").write_text((good if i % 3 else bad) % i + "---\n" + good % (100 + i))
    (tmp_path / "t.json").write_text('{\n\t"family": "x",\n\t"containerDefinitions": [{"name": "a", "image": "b", "memry": 1}]\n}')
    (tmp_path / "z.yaml").write_text(good % 999 + "# padding\n" * 100)
    monkeypatch.setattr(validate, "MAX_FILE_BYTES", 400)
    files = validate.discover([str(tmp_path)])

    def findings():
        return [(f.rule, f.file, f.line, f.column, f.path) for f in validate.Validator().validate(files).findings]

    monkeypatch.setattr(validate, "PARALLEL_FILES", 10**9)
    alone = findings()
    monkeypatch.setattr(validate, "PARALLEL_FILES", 2)
    monkeypatch.setattr(validate, "_cores", lambda: 2)
    assert findings() == alone
    assert ("E1007", str(tmp_path / "m00.yaml"), 6, 3, ("spec", "valu")) in alone
    assert any(f[0] == "E0006" for f in alone)
    assert any(f[1].endswith("t.json") and f[2] == 3 for f in alone)
