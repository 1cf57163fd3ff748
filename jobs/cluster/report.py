"""The results table printed at the end of a pipeline run."""


def format_report(report: dict) -> str:
    rows = [("data", report["data_source"])] if report.get("data_source") else []
    rows += [
        ("images read", report["images_read"]),
        ("images quarantined", report["images_quarantined"]),
    ]
    rows += [
        (f"{stage} wall time (s)", f"{secs:.1f}") for stage, secs in report["stages_s"].items()
    ]
    rows += [
        (
            f"kappa on {report['eval_set']}",
            f"{report['kappa']:.3f}"
            + (
                " (95 % interval {:.3f}..{:.3f})".format(*report["kappa_95"])
                if report.get("kappa_95")
                else ""
            ),
        ),
        ("images trained / scored", f"{report['n_train']} / {report['n_eval']}"),
        ("Spark application", f"{report['app_id']} ({report.get('app_state') or 'unknown'})"),
        ("Spark master", report["master"]),
        ("application UI", report.get("app_ui") or report.get("driver_ui")),
    ]
    if report.get("namenode_ui"):  # the data's HDFS, beside Spark's
        rows.append(("HDFS NameNode UI", report["namenode_ui"]))
    if report.get("out"):
        rows.append(("report page", "report.html beside report.json"))
    width = max(len(name) for name, _ in rows)
    lines = ["dr-cluster pipeline results", "-" * (width + 30)]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    for bad in report.get("quarantine", []):
        lines.append(f"quarantined: {bad['image']}: {bad['reason']}: {bad['detail']}")
    return "\n".join(lines)
