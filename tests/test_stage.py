from jobs.stage import stage


def test_stage_copies_then_skips_then_repairs(tmp_path, sample_dir):
    dest = tmp_path / "data"
    first = stage(f"file://{sample_dir}", dest)
    assert first.copied == 5 and first.skipped == 0
    assert (dest / "16_left.jpeg").read_bytes() == (sample_dir / "16_left.jpeg").read_bytes()

    again = stage(str(sample_dir), dest)
    assert again.copied == 0 and again.skipped == 5

    damaged = bytearray((dest / "13_left.jpeg").read_bytes())
    damaged[1000] ^= 0xFF
    (dest / "13_left.jpeg").write_bytes(bytes(damaged))
    repaired = stage(str(sample_dir), dest)
    assert repaired.copied == 1 and repaired.skipped == 4
    assert (dest / "13_left.jpeg").read_bytes() == (sample_dir / "13_left.jpeg").read_bytes()
    assert not list(dest.glob(".*partial"))
