//! `gridwork report`: the supervisors' figures from the command line, in every output form.

mod common;

use common::{Device, GRID};

#[test]
fn report_prints_writes_json_xlsx_and_csv() {
    let dev = Device::init(&[]);
    let new_case = |title: &str| {
        dev.id_of(&[
            "case",
            "new",
            "--kind",
            "dispute",
            "--grid",
            GRID,
            "--title",
            title,
            "--party",
            "王秀英:13812345678",
        ])
    };
    let a = new_case("漏水纠纷");
    let b = new_case("噪音扰民");
    let _open = new_case("物业纠纷");
    dev.ok(&["case", "event", &a, "resolved", "--to", "community"]);
    dev.ok(&["case", "event", &b, "escalated", "--to", "district"]);
    dev.ok(&["case", "event", &b, "resolved", "--to", "district"]);

    // The period that holds today, in the district's calendar.
    let month = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m")
        .to_string();

    let report = dev.json(&["report", "--period", &month]);
    let o = &report["overview"];
    assert_eq!(o["found"]["n"], 3);
    assert_eq!(o["resolved"]["n"], 2);
    assert_eq!(o["open"]["n"], 1);
    assert_eq!(o["grassroots_share"], 0.5);
    assert_eq!(o["meets_target"], false);

    // A street scope elsewhere holds none of them.
    let other = dev.json(&["report", "--period", &month, "--scope", "370214008"]);
    assert_eq!(other["overview"]["found"]["n"], 0);

    // On screen: the overview table in Chinese.
    let text = dev.ok(&["report", "--period", &month]);
    assert!(text.contains("总览"), "{text}");

    let xlsx = dev.file("report.xlsx");
    let csv = dev.file("csv");
    dev.ok(&[
        "report",
        "--period",
        &month,
        "--xlsx",
        xlsx.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&xlsx).unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX is a zip file");
    let files = std::fs::read_dir(&csv).unwrap().count();
    assert!(files >= 10, "one CSV per figure group, got {files}");

    let (code, err) = dev.fails(&["report", "--period", "2026-13"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--period"), "{err}");
}
