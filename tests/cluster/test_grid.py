from jobs.cluster import grid


def test_points_fit_the_cores():
    points = grid.grid_points(2, [1, 2, 4], [1, 2])
    assert {(p.executor_cores, p.executors) for p in points} == {(1, 2), (2, 1)}
    assert "spark.cores.max=2" in grid.spark_conf(points[0])


def test_oom_is_recognised():
    assert grid.is_oom("java.lang.OutOfMemoryError: Java heap space")
    assert not grid.is_oom("Job finished")


def test_csv_in_the_seed_columns_and_plot(tmp_path, seed_dir):
    seed = grid.read_seed(seed_dir / "spark_lr_perf.csv")
    assert list(seed[0]) == grid.SEED_COLUMNS
    rows = [grid.row(128, 1.7, 1, 2, 24, grid.GridPoint(1, 2, 2), 1.5),
            grid.row(128, 1.7, 1, 2, 24, grid.GridPoint(2, 2, 1), None)]  # fmt: skip
    grid.write_csv(rows, tmp_path / "grid.csv")
    assert (tmp_path / "grid.csv").read_text().splitlines()[0].startswith("Image Size,")
    assert rows[1]["Time (min)"] == "out of memory"
    grid.plot(rows, seed, tmp_path / "grid.png")
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
