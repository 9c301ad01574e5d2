"""The test-set readers on small files written here: both set-covering layouts, hostile files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from planner.errors import InputError
from planner.optimise import set_cover
from planner.optimise.instances import (
    read_facility,
    read_flow_network,
    read_pmed,
    read_scp,
    read_swain,
    read_tsplib,
)

# Rows 1-3 over columns 1-4: row 1 by columns 1, 2; row 2 by 2, 3; row 3 by 3, 4.
SCP_BY_ROWS = "3 4\n 1 2 3 1\n 2 1 2\n 2 2 3\n 2 3 4\n"
# The same instance as the rail files write it: per column its cost, count and rows.
SCP_BY_COLUMNS = "3 4\n1 1 1\n2 2 1 2\n3 2 2 3\n1 1 3\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def message(error: pytest.ExceptionInfo[InputError]) -> str:
    return str(error.value)


def test_scp_layouts_read_the_same_instance(tmp_path: Path) -> None:
    by_rows = read_scp(write(tmp_path, "rows.txt", SCP_BY_ROWS))
    by_columns = read_scp(write(tmp_path, "rail.txt", SCP_BY_COLUMNS))
    for instance in (by_rows, by_columns):
        assert instance.reach.shape == (3, 4)
        assert instance.reach.indptr.tolist() == [0, 2, 4, 6]
        assert instance.reach.indices.tolist() == [0, 1, 1, 2, 2, 3]
        assert instance.costs is not None
        assert instance.costs.tolist() == [1.0, 2.0, 3.0, 1.0]
        # Column 2 (cost 2) covers rows 1 and 2, column 4 (cost 1) row 3.
        solution = set_cover(instance.reach, costs=instance.costs)
        assert solution.objective == 3.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 4\n 1 2 3 1\n 2 1 2\n 2 2 3\n", "line 4: the file ends before row 3 of 3"),
        ("3 4\n 1 2 3 1\n 2 1 2\n 2 2 5\n 2 3 4\n", "line 4: row 2 lists '5', not an index in 1…4"),
        (
            "3 4\n 1 2 x 1\n 2 1 2\n 2 2 3\n 2 3 4\n",
            "line 2: 'x' in the column costs is not a number",
        ),
        ("3 4\n 1 2 3 1\n 2 1 2\n 2 2 3\n 2 3 4 7\n", "1 number(s) left after the 3 rows"),
        (
            "3 4\n 1 2 3 1\n 2 1 2\n 2.5 2 3\n 2 3 4\n",
            "line 4: row 2: its length '2.5' is not a whole number",
        ),
        (
            "3 4\n 1 2 nan 1\n 2 1 2\n 2 2 3\n 2 3 4\n",
            "'nan' in the column costs is not a finite number",
        ),
    ],
)
def test_scp_file_that_fits_no_layout_names_the_line(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(InputError) as error:
        read_scp(path)
    assert str(path) in message(error)
    assert "not OR-Library set covering in either layout" in message(error)
    assert expected in message(error)


def test_scp_negative_cost_and_empty_or_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="column 3 has a negative cost"):
        read_scp(write(tmp_path, "neg.txt", "3 4\n 1 2 -3 1\n 2 1 2\n 2 2 3\n 2 3 4\n"))
    with pytest.raises(InputError, match="empty"):
        read_scp(write(tmp_path, "empty.txt", " \n"))
    with pytest.raises(InputError, match="no such file"):
        read_scp(tmp_path / "absent.txt")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"3 4\n\xff\xfe\x00")
    with pytest.raises(InputError, match="not a text file"):
        read_scp(binary)


def test_pmed_reads_edges_the_beasley_way(tmp_path: Path) -> None:
    # Edge 1-2 repeats: the last cost (5) wins. Edge 2-3 costs 0 and is an edge.
    path = write(tmp_path, "pmed.txt", "3 3 1\n1 2 9\n2 3 0\n1 2 5\n")
    instance = read_pmed(path)
    assert instance.p == 1
    assert instance.reach.toarray().tolist() == [[0, 5, 5], [5, 0, 0], [5, 0, 0]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 1 1\n1 2 4\n", "node 1 cannot reach node 3"),
        ("3 2 1\n1 2 4\n2 4 1\n", "line 3: edge 2 has node '4', not a whole number in 1…3"),
        ("3 2 4\n1 2 4\n2 3 1\n", "line 1: '4' in p is not in 1…3"),
        ("3 2 1\n1 2 4\n2 3 -1\n", "line 3: edge 2 has a negative cost"),
        ("3 2 1\n1 2 4\n2 3\n", "1 number(s) missing in the edges"),
    ],
)
def test_pmed_hostile_files(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "pmed.txt", text)
    with pytest.raises(InputError) as error:
        read_pmed(path)
    assert str(path) in message(error)
    assert expected in message(error)


def test_facility_reads_capacity_words_and_rejects_negative_demand(tmp_path: Path) -> None:
    good = "2 2\ncapacity 10\n 30 12.5\n 4 1 2\n 5 3. 4\n"
    instance = read_facility(write(tmp_path, "cap.txt", good))
    assert instance.capacities is not None
    assert instance.capacities.tolist() == [np.inf, 30.0]
    assert instance.weights.tolist() == [4.0, 5.0]
    assert instance.reach.toarray().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(InputError, match="line 5: customer 2's demand is negative"):
        read_facility(write(tmp_path, "neg.txt", good.replace(" 5 3.", " -5 3.")))
    with pytest.raises(InputError, match="2 number\\(s\\) missing in customer 2's costs"):
        read_facility(write(tmp_path, "short.txt", "2 2\ncapacity 10\n 30 12.5\n 4 1 2\n 5\n"))


TSP = (
    "NAME : t\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\n"
    "NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6.5 8\n"
)


def test_tsplib_reads_nodes_up_to_the_next_section(tmp_path: Path) -> None:
    points = read_tsplib(write(tmp_path, "t.tsp", TSP + "DISPLAY_DATA_SECTION\n1 9 9\nEOF\n"))
    assert points.tolist() == [[0.0, 0.0], [3.0, 4.0], [6.5, 8.0]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TSP.replace("DIMENSION : 3", "DIMENSION : 4"), "DIMENSION says 4 nodes"),
        (TSP.replace("3 6.5 8", "3 6.5"), "line 7: expected a node as 'id x y'"),
        ("NAME : t\nEDGE_WEIGHT_SECTION\n0 1\n", "no NODE_COORD_SECTION"),
        (TSP.replace("DIMENSION : 3", "DIMENSION : three"), "line 2: DIMENSION 'three'"),
    ],
)
def test_tsplib_hostile_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        read_tsplib(write(tmp_path, "t.tsp", text))


def test_swain_skips_a_header_and_names_a_bad_line(tmp_path: Path) -> None:
    points, demand = read_swain(
        write(tmp_path, "s.dat", "id,x,y,demand\n01, 1, 2, 3,\n\n02, 4, 5, 6\n")
    )
    assert points.tolist() == [[1.0, 2.0], [4.0, 5.0]]
    assert demand.tolist() == [3.0, 6.0]
    with pytest.raises(InputError, match="line 3: expected 'id, x, y, demand'"):
        read_swain(write(tmp_path, "t.dat", "01, 1, 2, 3\n02, 4, 5, 6\n03, 7, eight, 9\n"))


def flow_network(folder: Path, od: str) -> Path:
    folder.mkdir()
    (folder / "nodes.csv").write_text("id,x,y\n1,0,0\n2,1,0\n3,2,0\n")
    (folder / "arcs.csv").write_text("from,to,length\n1,2,4\n2,3,3\n")
    (folder / "od.csv").write_text(od)
    return folder


def test_flow_network_positions_along_paths(tmp_path: Path) -> None:
    paths, ids = read_flow_network(flow_network(tmp_path / "f", "path,flow\n1-2-3,10\n3-2,2.5\n"))
    assert ids == ["1", "2", "3"]
    assert paths.flows.tolist() == [10.0, 2.5]
    assert paths.lengths.tolist() == [7.0, 3.0]
    assert paths.along(1)[1].tolist() == [0.0, 3.0]


@pytest.mark.parametrize(
    ("od", "expected"),
    [
        ("path,flow\n1-2-4,10\n", "od.csv, row 2, field 'path': node '4' is not in nodes.csv"),
        ("path,flow\n1-2-3,10\n1-3,5\n", "od.csv, row 3, field 'path': no arc joins '1' and '3'"),
        ("path,flow\n1-2,ten\n", "od.csv, row 2, field 'flow': 'ten' is not a number ≥ 0"),
        ("path,volume\n1-2,10\n", "od.csv: no column flow"),
    ],
)
def test_flow_network_hostile_files(tmp_path: Path, od: str, expected: str) -> None:
    with pytest.raises(InputError) as error:
        read_flow_network(flow_network(tmp_path / "f", od))
    assert expected in message(error)


def published() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "published.py"
    spec = importlib.util.spec_from_file_location("published_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_published_reports_a_bad_file_and_solves_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "good.txt", SCP_BY_COLUMNS)
    bad = write(tmp_path, "bad.txt", "3 4\n 1 2 3\n")
    code = published().main(["scp", str(bad), str(good), "--time-limit", "5"])
    out, err = capsys.readouterr()
    assert code == 2
    assert '"instance": "good"' in out and '"objective": 3.0' in out
    assert f"published.py: {bad}: not OR-Library set covering" in err
    assert "1 file(s) or instance(s) not solved" in err
