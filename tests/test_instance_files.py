"""The test-set readers on small files written here: both set-covering layouts, hostile files."""

from __future__ import annotations

import importlib.util
import json
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


def test_files_as_published_read_alike(tmp_path: Path) -> None:
    # gzip-compressed, with a byte-order mark, with a Latin-1 letter in a
    # comment: before, each was "not a text file" (and a BOM cost Swain's
    # first node without a word: 54 nodes and 569 demand instead of 55 and 640).
    import gzip

    plain = read_tsplib(write(tmp_path, "t.tsp", TSP))
    packed = tmp_path / "t.tsp.gz"
    packed.write_bytes(gzip.compress(TSP.encode()))
    assert read_tsplib(packed).tolist() == plain.tolist()
    latin = tmp_path / "l.tsp"
    latin.write_bytes(TSP.replace("NAME : t", "NAME : t\nCOMMENT : Zürich").encode("latin-1"))
    assert read_tsplib(latin).tolist() == plain.tolist()
    bom = tmp_path / "s.dat"
    bom.write_text("\ufeff01, 1, 2, 3,\n02, 4, 5, 6,\n", encoding="utf-8")
    points, demand = read_swain(bom)
    assert points.tolist() == [[1.0, 2.0], [4.0, 5.0]] and demand.tolist() == [3.0, 6.0]
    damaged = tmp_path / "d.txt.gz"
    damaged.write_bytes(gzip.compress(b"3 4\n" * 100)[:20])
    with pytest.raises(InputError, match="a damaged gzip file"):
        read_scp(damaged)


def test_swain_reads_both_layouts_and_checks_ids_and_count(tmp_path: Path) -> None:
    # Before: the shipped swain.txt (a count, then "01 32. 31. 71.") was refused,
    # and a first line holding one word among numbers was skipped as a header.
    points, demand = read_swain(write(tmp_path, "s.txt", "2\n01 1. 2. 3.\n02 4. 5. 6.\n"))
    assert points.tolist() == [[1.0, 2.0], [4.0, 5.0]] and demand.tolist() == [3.0, 6.0]
    with pytest.raises(InputError, match="line 1 says 3 nodes, the file lists 2"):
        read_swain(write(tmp_path, "c.txt", "3\n01 1. 2. 3.\n02 4. 5. 6.\n"))
    with pytest.raises(InputError, match="line 2: node 01 is listed twice"):
        read_swain(write(tmp_path, "d.dat", "01, 1, 2, 3\n01, 4, 5, 6\n"))
    with pytest.raises(InputError, match="line 1: expected 'id, x, y, demand'"):
        read_swain(write(tmp_path, "w.dat", "01, thirty, 31, 71,\n02, 4, 5, 6\n"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Before: read, and measured as planes (GEO's degrees gave distances of 1 to 5).
        (TSP.replace("EUC_2D", "GEO"), "line 3: EDGE_WEIGHT_TYPE 'GEO': only points of a plane"),
        (TSP.replace("EUC_2D", "MAN_2D"), "EDGE_WEIGHT_TYPE 'MAN_2D'"),
        # Before: read, with node 2 missing.
        (TSP.replace("2 3 4", "1 3 4"), r"line 6: node 1 is listed twice \(first on line 5\)"),
    ],
)
def test_tsplib_refuses_other_distances_and_repeated_ids(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(InputError, match=expected):
        read_tsplib(write(tmp_path, "t.tsp", text))


def test_tsplib_coordinates_end_at_any_section(tmp_path: Path) -> None:
    # Before: "expected a node as 'id x y', found 'FIXED_EDGES_SECTION'".
    for section in ("FIXED_EDGES_SECTION\n1 2\n-1\n", "DEMAND_SECTION\n1 0\n2 1\n3 1\n"):
        points = read_tsplib(write(tmp_path, "t.tsp", TSP + section + "EOF\n"))
        assert points.tolist() == [[0.0, 0.0], [3.0, 4.0], [6.5, 8.0]]
    points = read_tsplib(write(tmp_path, "c.tsp", TSP.replace("EUC_2D", "CEIL_2D")))
    assert points.shape == (3, 2)


def test_scp_row_no_column_covers_is_refused(tmp_path: Path) -> None:
    # Before: read, and set_cover called a cover of the other rows optimal.
    with pytest.raises(InputError, match="row 2 is covered by no column"):
        read_scp(write(tmp_path, "e.txt", "3 4\n 1 2 3 1\n 2 1 2\n 0\n 2 3 4\n"))


def test_facility_refuses_a_negative_cost_of_service(tmp_path: Path) -> None:
    good = "2 2\n 10 10\n 30 12.5\n 4 1 2\n 5 3. 4\n"
    with pytest.raises(InputError, match="line 5: customer 2's cost at warehouse 2 is negative"):
        read_facility(write(tmp_path, "n.txt", good.replace("3. 4", "3. -4")))


@pytest.mark.parametrize(
    ("arcs", "od", "expected"),
    [
        # Before: the later length won without a word.
        ("from,to,length\n1,2,4\n2,3,3\n2,1,9\n", "path,flow\n1-2,1\n", "row 4, field 'length'"),
        # Before: 0 pairs read, every objective 0 and "optimal".
        ("from,to,length\n1,2,4\n2,3,3\n", "path,flow\n", "lists no origin-destination pair"),
        ("from,to,length\n1,2,4\n2,3,3\n", "path,flow\n1-2-1,1\n", "passes node '1' twice"),
        (
            "from,to,length\n1,2,4\n2,3,3\n",
            "origin,destination,path,flow\n1,3,1-2,1\n",
            "row 2, field 'destination': the path runs '1' to '2', not from or to '3'",
        ),
        # Before: "row 4" for the row on line 5.
        ("from,to,length\n1,2,4\n2,3,3\n", "path,flow\n1-2,1\n\n\n2-3,x\n", "od.csv, row 5,"),
    ],
)
def test_flow_network_refuses_what_would_misread(
    tmp_path: Path, arcs: str, od: str, expected: str
) -> None:
    folder = flow_network(tmp_path / "f", od)
    (folder / "arcs.csv").write_text(arcs)
    with pytest.raises(InputError) as error:
        read_flow_network(folder)
    assert expected in message(error)


def test_flow_network_reads_spaces_after_commas_and_in_paths(tmp_path: Path) -> None:
    folder = flow_network(tmp_path / "f", "path, flow\n1 - 2 - 3, 10\n")
    (folder / "arcs.csv").write_text("from, to, length\n1, 2, 4\n2, 3, 3\n")
    paths, _ = read_flow_network(folder)
    assert paths.lengths.tolist() == [7.0]


def _runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = published().main([*args, "--time-limit", "10"])
    out, err = capsys.readouterr()
    return code, out, err


def test_published_tsplib_follows_the_distance_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Three points at 0, 5 and 6.5 along a line: p = 1 opens the middle one.
    # Before: every row was solved with distances rounded down, so an optimum
    # published with real distances was a mismatch.
    tsp = "NAME : t\nDIMENSION : 3\nNODE_COORD_SECTION\n1 0 0\n2 3 4\n3 3.9 5.2\nEOF\n"
    write(tmp_path, "t.tsp", tsp)
    write(
        tmp_path,
        "optima.csv",
        "\ufeffinstance,optimum,tsp_file,p,distance\n"
        "t_p1,6.5,t,1,euclidean\nt_p2,1,t,2,floor(euclidean)\n",
    )
    code, out, err = _runs(tmp_path, capsys, "tsplib", str(tmp_path / "t.tsp"))
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [(r["instance"], r["objective"], r["match"]) for r in records] == [
        ("t_p1", pytest.approx(6.5), True),
        ("t_p2", 1.0, True),
    ]
    write(tmp_path, "optima.csv", "instance,optimum,tsp_file,p,distance\nt_p1,6,t,1,manhattan\n")
    code, out, err = _runs(tmp_path, capsys, "tsplib", str(tmp_path / "t.tsp"))
    assert code == 2 and "distance 'manhattan' is none of floor(euclidean)" in err


def test_published_says_what_it_cannot_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tsp = write(tmp_path, "t.tsp", TSP)
    # Before: no optima.csv row for the file, nothing solved, exit 0.
    code, out, err = _runs(tmp_path, capsys, "tsplib", str(tsp))
    assert code == 2 and out == "" and "no p to solve for t: give --p" in err
    # Before: an empty optimum (a best-known value to come) ended in a traceback.
    write(tmp_path, "optima.csv", "instance,optimum,tsp_file,p\nt_p1,,t,1\n")
    code, out, err = _runs(tmp_path, capsys, "tsplib", str(tsp))
    assert code == 0 and json.loads(out)["optimum"] is None
    # Before: pmed1 at p = 10 was compared with pmed1's optimum at its own p.
    pmed = write(tmp_path, "pmed.txt", "3 2 1\n1 2 4\n2 3 3\n")
    write(tmp_path, "optima.csv", "instance,optimum,p\npmed,7,1\n")
    code, out, err = _runs(tmp_path, capsys, "pmed", str(pmed), "--p", "2")
    assert code == 0 and json.loads(out)["optimum"] is None, err
    code, out, err = _runs(tmp_path, capsys, "pmed", str(pmed))
    assert code == 0 and json.loads(out)["match"] is True, err


def test_published_cap_matches_a_written_out_capacity_with_its_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # capa's four rows share one name; a file with its capacities written as
    # numbers was compared with the last row (another capacity's optimum).
    text = "2 2\n 10 10\n 10 12.5\n 4 1 2\n 5 3. 4\n"
    path = write(tmp_path, "capz.txt", text)
    write(
        tmp_path,
        "optima.csv",
        "instance,optimum,capacity\ncapz,14,10\ncapz,999,20\n",
    )
    code, out, err = _runs(tmp_path, capsys, "cap", str(path))
    assert code == 0, err
    record = json.loads(out)
    assert (record["objective"], record["optimum"], record["match"]) == (14.0, 14.0, True)


def test_published_frlm_reads_the_model_and_tells_variants_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = flow_network(tmp_path / "f", "path,flow\n1-2-3,10\n3-2,2.5\n1-2,1\n")
    # Before: an FCLM row with a range was solved as FRLM (range 1: nothing refuelled).
    (folder / "optima.csv").write_text(
        "instance,variant,model,range,p,optimum\nf,a,FCLM,1,1,13.5\n", encoding="utf-8"
    )
    code, out, err = _runs(tmp_path, capsys, "frlm", str(folder))
    record = json.loads(out)
    assert record["instance"] == "f_FCLM_p1" and record["match"] is True, err
    # Two variants of one run: compared with neither unless --variant names one.
    (folder / "optima.csv").write_text(
        "instance,variant,model,range,p,optimum\nf,a,FCLM,,1,13.5\nf,b,FCLM,,1,99\n",
        encoding="utf-8",
    )
    code, out, err = _runs(tmp_path, capsys, "frlm", str(folder))
    assert code == 0 and json.loads(out)["optimum"] is None, err
    code, out, err = _runs(tmp_path, capsys, "frlm", str(folder), "--variant", "b")
    assert code == 0, err
    assert json.loads(out)["optimum"] == 99 and json.loads(out)["match"] is False


def test_published_capb_without_capacities_takes_beasleys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: SystemExit, ending every other file's run too.
    path = write(tmp_path, "capb.txt", "2 2\ncapacity 10\ncapacity 12.5\n 4 1 2\n 5 3. 4\n")
    other = write(tmp_path, "capq.txt", "2 2\ncapacity 10\ncapacity 12.5\n 4 1 2\n 5 3. 4\n")
    code, out, err = _runs(tmp_path, capsys, "cap", str(other), str(path))
    assert code == 2 and f"{other}: the capacities are the word 'capacity'" in err
    names = [json.loads(line)["instance"] for line in out.splitlines()]
    assert names == ["capb_5000", "capb_6000", "capb_7000", "capb_8000"]


def test_published_reads_counts_written_as_decimals_and_names_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: p = 3.0 in a flow network's optima.csv, or "one" for a TSPLIB
    # row, ended in a ValueError traceback.
    folder = flow_network(tmp_path / "f", "path,flow\n1-2-3,10\n3-2,2.5\n1-2,1\n")
    (folder / "optima.csv").write_text("model,range,p,optimum\nFCLM,,1.0,13.5\n")
    code, out, err = _runs(tmp_path, capsys, "frlm", str(folder))
    assert code == 0 and json.loads(out)["match"] is True, err
    write(tmp_path, "t.tsp", TSP)
    write(tmp_path, "optima.csv", "instance,optimum,tsp_file,p\nt_p1,6,t,one\n")
    code, out, err = _runs(tmp_path, capsys, "tsplib", str(tmp_path / "t.tsp"))
    assert code == 2 and "optima.csv: t_p1: p 'one' is not a whole number ≥ 1" in err
