"""Every reader of a data file against every kind of file that is not what it claims.

``READERS`` is the one table of readers: a row per reader gives a small valid file, the
template of a text file with one field to spoil (on a known line), the bad files only its
format can have, and the bad files its format cannot tell from good ones (with why). The
sweep feeds every reader every class of bad file, generated in ``tmp_path``, and asserts a
:class:`DataFileError` naming the file, and the line or record where there is one. A new
reader is one new row.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import opsgym.envs  # noqa: F401
from opsgym.envs.anomaly_detection.simulator import nyc_taxi, read_labelled_csv
from opsgym.envs.core import traces
from opsgym.envs.core.data_files import DataFileError, csv_rows, packaged
from opsgym.envs.core.load_traces import load_trace
from opsgym.envs.resource_allocation.workloads import read_job_trace
from opsgym.envs.routing.topology import load_topology

# Random bytes, a whole number of 4-byte (cache2k) and 24-byte (oracleGeneral) records, so
# that binary readers must judge the content, not the length.
GARBAGE = np.random.default_rng(23).bytes(24 * 1024)

# A text field spoilt three ways; the text readers put it on a known line.
SPOILT_FIELDS = {"NaN": "nan", "infinity": "inf", "non-numeric": "lots", "negative": "-5"}


def graphml(
    nodes=(("a", "40.7", "-74.0"), ("b", "41.9", "-87.6"), ("c", "29.8", "-95.4")),
    links=(("a", "b", "1e10"), ("b", "c", "2.5e9")),
    latitude_type: str = "double",
) -> bytes:
    """A small GraphML network: nodes (id, Latitude, Longitude), links (u, v, LinkSpeedRaw)."""
    rows = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
        f'<key attr.name="Latitude" attr.type="{latitude_type}" for="node" id="lat"/>',
        '<key attr.name="Longitude" attr.type="double" for="node" id="lon"/>',
        '<key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="speed"/>',
        '<graph edgedefault="undirected">',
        *(
            f'<node id="{n}"><data key="lat">{lat}</data><data key="lon">{lon}</data></node>'
            for n, lat, lon in nodes
        ),
        *(
            f'<edge source="{u}" target="{v}"><data key="speed">{speed}</data></edge>'
            for u, v, speed in links
        ),
        "</graph>",
        "</graphml>",
    ]
    return "\n".join(rows).encode()


def oracle_general(times, ids, sizes, next_access) -> bytes:
    records = np.zeros(len(ids), dtype=traces.ORACLE_GENERAL_RECORD)
    records["time"], records["obj_id"], records["size"] = times, ids, sizes
    records["next_access_vtime"] = next_access
    return records.tobytes()


# Object 5 is requested at records 0 and 2, object 6 at 1 and 3, object 7 at 4.
VALID_ORACLE = oracle_general(
    [1, 1, 2, 3, 3], [5, 6, 5, 6, 7], [10, 20, 10, 20, 30], [2, 3, -1, -1, -1]
)


def _trace(path, trace_format: str):
    trace = traces.read_trace(path, trace_format)
    return trace.ids, trace.sizes


def _load(source: str):
    trace = load_trace(source, 60.0)
    return trace.rates, trace.missing, trace.start_seconds, trace.step_seconds


def _series(path):
    timestamps, series = read_labelled_csv(path)
    return timestamps, series.values, series.windows


def _jobs(path):
    jobs = read_job_trace(path, (10, 10), 20)
    return jobs.arrivals, jobs.durations, jobs.demands


def _topology(source: str):
    topo = load_topology(source)
    edges = sorted(topo.graph.edges(data="delay"))
    return topo.name, topo.nodes, topo.arcs, topo.capacity_kbps, topo.delay_s, edges


def _plain(value):
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tolist())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def digest(values) -> str:
    """A short hash of arrays, lists and numbers, exact to the last bit of every float."""
    return hashlib.sha256(repr(_plain(values)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Reader:
    """One reader of data files, and the files that test it.

    Attributes:
        name: the reader, for test ids.
        read: reads the file at a path, returning what it read as arrays, lists and numbers.
        valid: the bytes of a small file it reads.
        template: a valid text file with one ``{}`` field, on line ``bad_line``, where
            ``SPOILT_FIELDS`` go (None for a binary format).
        bad_line: the line of the ``{}`` field.
        compressed: ``valid`` is a gzip, which the format requires.
        bad_files: format-specific bad files: class -> (bytes, text the message holds).
        accepted: classes of bad file the format cannot tell from good ones -> why.
    """

    name: str
    read: Callable[[Path], object]
    valid: bytes
    template: str | None = None
    bad_line: int = 0
    compressed: bool = False
    bad_files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    accepted: dict[str, str] = field(default_factory=dict)


READERS = [
    Reader(
        "trace ids",
        lambda path: _trace(path, "ids"),
        b"5\n6\n5\n",
        template="5\n{}\n7\n",
        bad_line=2,
        accepted={"negative": "object ids are labels; any integer is one"},
    ),
    Reader(
        "trace csv",
        lambda path: _trace(path, "csv"),
        b"time,obj_id,size\n1,5,100\n2,6,200\n",
        template="time,obj_id,size\n1,5,100\n2,6,{}\n3,5,100\n",
        bad_line=3,
        bad_files={
            "time backwards": (b"time,obj_id,size\n2,5,1\n1,6,1\n", "line 3: time '1'"),
            "NaN time": (b"time,obj_id,size\n1,5,1\nnan,6,1\n", "line 3: time must be finite"),
            "bad header": (b"when,what\n1,5\n", "line 1: the header"),
        },
    ),
    Reader(
        "trace cache2k",
        lambda path: _trace(path, "cache2k"),
        gzip.compress(np.array([5, 6, 5], dtype=">i4").tobytes()),
        compressed=True,
        bad_files={
            "gzip of text": (gzip.compress(b"12\n34\n56\n78\n"), "holds text"),
            "truncated record": (gzip.compress(b"\x00" * 6), "record 1: truncated"),
        },
        accepted={"gzip of garbage": "every whole number of big-endian int32 is a cache2k trace"},
    ),
    Reader(
        "trace oracleGeneral",
        lambda path: _trace(path, "oracle_general"),
        VALID_ORACLE,
        bad_files={
            "text": (b"1,5,10,2\n" * 8, "holds text"),
            "truncated record": (VALID_ORACLE[:-1], "record 4: truncated"),
            "time backwards": (
                oracle_general([1, 1, 0], [5, 6, 5], [1, 1, 1], [2, -1, -1]),
                "record 2: time 0 is before",
            ),
            "zero size": (
                oracle_general([1, 1, 2], [5, 6, 5], [1, 0, 1], [2, -1, -1]),
                "record 1: size must be > 0",
            ),
            "next access elsewhere": (
                oracle_general([1, 1, 2], [5, 6, 5], [1, 1, 1], [1, -1, -1]),
                "record 0: next_access_vtime is 1",
            ),
            "next access missing": (
                oracle_general([1, 1, 2], [5, 6, 5], [1, 1, 1], [-1, -1, -1]),
                "record 0: next_access_vtime is -1",
            ),
            "next access of a last request": (
                oracle_general([1, 1, 2], [5, 6, 5], [1, 1, 1], [2, 2, -1]),
                "record 1: next_access_vtime is 2, expected -1",
            ),
            "counting changes": (
                oracle_general([1, 1, 2, 3], [5, 6, 5, 6], [1, 1, 1, 1], [2, 4, -1, -1]),
                "record 1: next_access_vtime is 4, expected 3",
            ),
        },
    ),
    Reader(
        "Autoscaling load csv",
        lambda path: _load(str(path)),
        b"timestamp,value\n2024-01-01T00:00,5\n2024-01-01T00:01,6\n",
        template=("timestamp,value\n2024-01-01T00:00,5\n2024-01-01T00:01,{}\n2024-01-01T00:02,7\n"),
        bad_line=3,
    ),
    Reader(
        "AnomalyDetection csv",
        _series,
        b"timestamp,value,label\nt0,1.0,0\nt1,2.0,1\n",
        template="timestamp,value,label\nt0,1.0,0\nt1,{},0\nt2,1.0,1\n",
        bad_line=3,
        bad_files={"bad label": (b"timestamp,value,label\nt0,1.0,0\nt1,2.0,2\n", "line 3: label")},
        accepted={"negative": "a metric may be negative (a difference, a temperature)"},
    ),
    Reader(
        "ResourceAllocation job csv",
        _jobs,
        b"arrival,duration,cpu,memory\n0,1,1,1\n2,2,2,2\n",
        template="arrival,duration,cpu,memory\n0,1,1,1\n{},2,2,2\n",
        bad_line=3,
    ),
    Reader(
        "Routing GraphML",
        lambda path: _topology(str(path))[1:],
        graphml(),
        bad_files={
            "broken XML": (graphml().replace(b"</data></node>", b"</dat></node>", 1), "line 7:"),
            "not GraphML": (b"<html><body/></html>", "not readable GraphML"),
            "duplicate node": (
                graphml(nodes=(("a", "1", "2"), ("b", "3", "4"), ("c", "5", "6"), ("a", "7", "8"))),
                "node 'a' is declared more than once",
            ),
            "NaN coordinate": (
                graphml(nodes=(("a", "40.7", "-74.0"), ("b", "NaN", "-87.6"), ("c", "1", "2"))),
                "node 'b': Latitude must be a number",
            ),
            "non-numeric coordinate": (
                graphml(nodes=(("a", "40.7", "-74.0"), ("b", "north", "-87.6"), ("c", "1", "2"))),
                "could not convert string to float: 'north'",
            ),
            "non-numeric coordinate of type string": (
                graphml(
                    nodes=(("a", "40.7", "-74.0"), ("b", "north", "-87.6"), ("c", "1", "2")),
                    latitude_type="string",
                ),
                "node 'b': Latitude must be a number",
            ),
            "coordinate out of range": (
                graphml(nodes=(("a", "40.7", "-74.0"), ("b", "91", "-87.6"), ("c", "1", "2"))),
                "node 'b': Latitude must be a number in [-90, 90], got 91.0",
            ),
            "negative capacity": (
                graphml(links=(("a", "b", "-1e9"), ("b", "c", "1e9"))),
                "link 'a'-'b': LinkSpeedRaw must be a positive number",
            ),
            "zero capacity": (
                graphml(links=(("a", "b", "0"), ("b", "c", "1e9"))),
                "link 'a'-'b': LinkSpeedRaw",
            ),
            "NaN capacity": (
                graphml(links=(("a", "b", "NaN"), ("b", "c", "1e9"))),
                "link 'a'-'b': LinkSpeedRaw",
            ),
            "nodes at one place": (
                graphml(nodes=(("a", "10", "20"), ("b", "10", "20"), ("c", "10", "20"))),
                "every node is at one place",
            ),
            "disconnected": (graphml(links=(("a", "b", "1e9"),)), "nodes 'a' and 'c' are"),
        },
    ),
]


def _bad_files_of_every_format(reader: Reader) -> dict[str, bytes]:
    """The classes every reader is given: what any file can be instead of the right one."""
    files = {
        "random bytes": GARBAGE,
        "truncated gzip": gzip.compress(reader.valid)[: len(gzip.compress(reader.valid)) // 2],
        "gzip of garbage": gzip.compress(GARBAGE),
        "empty": b"",
        "gzip of nothing": gzip.compress(b""),
        "zstd": b"\x28\xb5\x2f\xfd" + GARBAGE[:100],
    }
    if reader.template is not None:  # text formats
        lines = reader.valid.split(b"\n")
        lines[1] = lines[1][:2] + b"\x00\x01" + lines[1][2:]
        files["binary in text"] = b"\n".join(lines)
    return files


SWEEP = [
    pytest.param(reader, kind, content, id=f"{reader.name}-{kind}")
    for reader in READERS
    for kind, content in _bad_files_of_every_format(reader).items()
]
LINES = [
    pytest.param(reader, kind, id=f"{reader.name}-{kind}")
    for reader in READERS
    if reader.template is not None
    for kind in SPOILT_FIELDS
]
SPECIFIC = [
    pytest.param(reader, kind, content, message, id=f"{reader.name}-{kind}")
    for reader in READERS
    for kind, (content, message) in reader.bad_files.items()
]


def _refused(reader: Reader, path: Path) -> str:
    with pytest.raises(DataFileError) as error:
        reader.read(path)
    message = str(error.value)
    assert message.startswith(f"{path}: "), message
    return message


@pytest.mark.parametrize("reader, kind, content", SWEEP)
def test_every_reader_refuses_every_file_that_is_not_its_format(tmp_path, reader, kind, content):
    path = tmp_path / "bad.data"
    path.write_bytes(content)
    if kind in reader.accepted:
        reader.read(path)  # documented in the reader: the format cannot tell
        return
    message = _refused(reader, path)
    if kind == "binary in text":
        assert "line 2: binary data" in message


@pytest.mark.parametrize("reader, kind", LINES)
def test_every_text_reader_names_the_line_of_a_bad_field(tmp_path, reader, kind):
    path = tmp_path / "bad.data"
    path.write_text(reader.template.format(SPOILT_FIELDS[kind]))
    if kind in reader.accepted:
        reader.read(path)
        return
    message = _refused(reader, path)
    assert f": line {reader.bad_line}: " in message and repr(SPOILT_FIELDS[kind]) in message


@pytest.mark.parametrize("reader, kind, content, message", SPECIFIC)
def test_every_reader_refuses_what_its_format_forbids(tmp_path, reader, kind, content, message):
    path = tmp_path / "bad.data"
    path.write_bytes(content)
    assert message in _refused(reader, path)


@pytest.mark.parametrize("reader", READERS, ids=lambda reader: reader.name)
def test_every_reader_reads_its_valid_file_the_same_gzipped_whatever_its_name(tmp_path, reader):
    plain, packed = tmp_path / "plain.data", tmp_path / "packed.data"
    if reader.compressed:
        plain.write_bytes(gzip.decompress(reader.valid))
        packed.write_bytes(reader.valid)
        assert "not a gzip file" in _refused(reader, plain)
        reader.read(packed)
    else:
        plain.write_bytes(reader.valid)
        packed.write_bytes(gzip.compress(reader.valid))
        assert digest(reader.read(plain)) == digest(reader.read(packed))
    if reader.template is not None:
        filled = tmp_path / "filled.data"
        filled.write_text(reader.template.format("5"))
        reader.read(filled)


def test_accepted_classes_are_classes_the_sweep_tries():
    for reader in READERS:
        tried = {*SPOILT_FIELDS, *_bad_files_of_every_format(reader)}
        assert set(reader.accepted) <= tried, reader.name


# ---------------------------------------------------------------------------------------
# oracleGeneral: what the next-access check accepts
# ---------------------------------------------------------------------------------------


def test_oracle_general_next_accesses_may_count_from_one_and_point_past_a_cut(tmp_path):
    path = tmp_path / "t.oracleGeneral"
    # counted from 1, as libCacheSim's traceConv writes them
    path.write_bytes(oracle_general([1, 1, 2], [5, 6, 5], [1, 1, 1], [3, -1, 2**63 - 1]))
    assert traces.read_trace(path).ids.tolist() == [5, 6, 5]
    # the first 3 records of a longer trace: object 6 comes back at record 7
    path.write_bytes(oracle_general([1, 1, 2], [5, 6, 5], [1, 1, 1], [2, 7, -1]))
    assert traces.read_trace(path).sizes.tolist() == [1, 1, 1]


def test_next_requests_match_a_brute_force_scan():
    ids = np.random.default_rng(0).integers(0, 6, size=200)
    expected = [
        next((j for j in range(i + 1, len(ids)) if ids[j] == ids[i]), -1) for i in range(len(ids))
    ]
    assert traces.next_requests(ids).tolist() == expected


def test_trace_formats_are_guessed_from_the_name_without_gz():
    guesses = {
        "a.csv.gz": "csv",
        "a.txt.gz": "ids",
        "a.txt": "ids",
        "a.trc.bin.gz": "cache2k",
        "a.oracleGeneral.bin.gz": "oracle_general",
        "a.og.bin": "oracle_general",
    }
    assert {name: traces.guess_format(Path(name)) for name in guesses} == guesses


def test_csv_rows_number_the_line_each_row_starts_on():
    text = 'a,b\r\n\n1,"two\nlines"\r3,4\n'
    assert list(csv_rows(text)) == [(1, ["a", "b"]), (3, ["1", "two\nlines"]), (5, ["3", "4"])]


def test_routing_refuses_a_one_place_topology_when_built_not_at_reset(tmp_path):
    path = tmp_path / "one_place.graphml"
    path.write_bytes(graphml(nodes=(("a", "10", "20"), ("b", "10", "20"), ("c", "10", "20"))))
    with pytest.raises(DataFileError, match="one_place.graphml: every node is at one place"):
        gym.make("opsgym/Routing-v1", topology=str(path))


# ---------------------------------------------------------------------------------------
# Shipped data: read exactly as before the shared opener
# ---------------------------------------------------------------------------------------


# Digests of what the readers of main at 30ff14f (before the shared opener) returned.
SHIPPED = {
    "web07": (lambda: (traces.web07().ids, traces.web07().sizes), "c6bc80bacd34490b"),
    "trace-mt by path": (
        lambda: _trace(packaged(traces.WEB07_FILE), "cache2k"),
        "c6bc80bacd34490b",
    ),
    "nasa": (lambda: _load("nasa"), "689e24f204479e5b"),
    "nasa by path": (
        lambda: _load(str(packaged("nasa_http_requests_per_minute.csv.gz"))),
        "689e24f204479e5b",
    ),
    "nyc_taxi as load": (lambda: _load(str(packaged("nyc_taxi.csv"))), "527d54460e32bdbd"),
    "nyc_taxi": (lambda: (nyc_taxi().values, nyc_taxi().windows), "8e810a70a6ea23a4"),
    "nyc_taxi as csv": (lambda: _series(packaged("nyc_taxi.csv")), "53e0bb27c1b8b7c0"),
    "Abilene": (lambda: _topology("Abilene"), "db8e68b2e02bbb6d"),
    "Geant2009": (lambda: _topology("Geant2009"), "aab18ba6e15cd2ff"),
    "Renater2001": (lambda: _topology("Renater2001"), "9fda0c16295a4d1d"),
}


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_files_read_as_before(name):
    read, expected = SHIPPED[name]
    assert digest(list(read())) == expected
