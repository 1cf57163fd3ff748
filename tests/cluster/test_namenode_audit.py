"""Which files a NameNode restored from a checkpoint lacks, from its audit log."""

from jobs.cluster.namenode_audit import audit_events, written_after

PREFIX = "org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit"


def line(time: str, cmd: str, src: str, dst: str = "null", allowed: str = "true") -> str:
    return (f"2026-12-06 {time} INFO {PREFIX}: allowed={allowed}\tugi=hadoop (auth:SIMPLE)\t"
            f"ip=/10.0.0.1\tcmd={cmd}\tsrc={src}\tdst={dst}\tperm=hadoop:supergroup:rw-r--r--\t"
            "proto=rpc\n")  # fmt: skip


def test_files_written_after_the_checkpoint_follow_their_renames_and_deletes():
    log = [
        line("12:00:00,000", "create", "/u/before.jpeg"),  # before the checkpoint
        line("12:00:05,001", "create", "/u/.a.jpeg.partial"),
        line("12:00:05,002", "rename (options=[OVERWRITE])", "/u/.a.jpeg.partial", "/u/a.jpeg"),
        line("12:00:05,003", "create", "/u/_tmp.1/part-0.parquet"),
        line("12:00:05,004", "rename (options=[OVERWRITE])", "/u/_tmp.1", "/u/out/size=16"),
        line("12:00:05,005", "create", "/u/gone.txt"),
        line("12:00:05,006", "delete", "/u/gone.txt"),
        line("12:00:05,007", "create", "/u/refused.txt", allowed="false"),
        line("12:00:05,008", "open", "/u/before.jpeg"),
        "2026-12-06 12:00:05,009 INFO BlockStateChange: not an audit line\n",
    ]
    events = list(audit_events(log, since="12:00:05,000".join(["2026-12-06 ", ""])))
    assert [cmd for cmd, _, _ in events] == ["create", "rename", "create", "rename", "create",
                                            "delete", "open"]  # fmt: skip
    assert written_after(events) == {"/u/a.jpeg", "/u/out/size=16/part-0.parquet"}
