//! JSON, XLSX (rust_xlsxwriter) and CSV output of a report.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use gridwork_schema::Lang;
use gridwork_schema::report::{Cell, Report, Sheet};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatBorder, Workbook};

use super::ReportError;

/// The UTF-8 byte-order mark that makes Excel read a CSV file as UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writing a [`Report`] out: JSON, XLSX, CSV. (A trait because [`Report`] is defined in
/// `gridwork_schema`, which does no IO.)
pub trait ReportExport {
    /// The report as pretty-printed JSON.
    fn to_json(&self) -> String;

    /// The report as an XLSX workbook in Chinese, one sheet per figure group.
    fn to_xlsx(&self, path: &Path) -> Result<(), ReportError>;

    /// The workbook's bytes in `lang` (for an HTTP response).
    fn to_xlsx_bytes(&self, lang: Lang) -> Result<Vec<u8>, ReportError>;

    /// Writes one CSV file per figure group into `dir` (created if missing), UTF-8 with a
    /// byte-order mark, headers in Chinese. Returns the files, in sheet order.
    fn to_csv_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError>;

    /// One figure group (by its key: `overview`, `levels`, …) as CSV bytes in `lang`, with a
    /// byte-order mark (for an HTTP response).
    fn sheet_csv_bytes(&self, key: &str, lang: Lang) -> Result<Vec<u8>, ReportError>;
}

impl ReportExport for Report {
    fn to_json(&self) -> String {
        // A report holds only strings, numbers and plain structs: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn to_xlsx(&self, path: &Path) -> Result<(), ReportError> {
        workbook(self, Lang::ZhCn)?.save(path)?;
        Ok(())
    }

    fn to_xlsx_bytes(&self, lang: Lang) -> Result<Vec<u8>, ReportError> {
        Ok(workbook(self, lang)?.save_to_buffer()?)
    }

    fn to_csv_dir(&self, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        for (i, sheet) in self.sheets(Lang::ZhCn).iter().enumerate() {
            let path = dir.join(format!("{:02}_{}.csv", i + 1, sheet.key));
            std::fs::write(&path, csv_bytes(sheet, Lang::ZhCn)?)?;
            files.push(path);
        }
        Ok(files)
    }

    fn sheet_csv_bytes(&self, key: &str, lang: Lang) -> Result<Vec<u8>, ReportError> {
        let sheets = self.sheets(lang);
        match sheets.iter().find(|s| s.key == key) {
            Some(sheet) => csv_bytes(sheet, lang),
            None => Err(ReportError::UnknownSheet {
                key: key.to_owned(),
                known: sheets.iter().map(|s| s.key).collect::<Vec<_>>().join(", "),
            }),
        }
    }
}

/// The workbook of `report`, one sheet per figure group.
fn workbook(report: &Report, lang: Lang) -> Result<Workbook, ReportError> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0x00DD_EBF7))
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let int = Format::new().set_num_format("0");
    let pct = Format::new().set_num_format("0.0%");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for sheet in report.sheets(lang) {
        let ws = wb.add_worksheet();
        ws.set_name(sheet.name(lang))?;
        for (c, column) in sheet.columns.iter().enumerate() {
            let c = u16::try_from(c).unwrap_or(u16::MAX);
            ws.write_string_with_format(0, c, column.label(lang), &header)?;
            ws.set_column_width(c, column.width)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap_or(u16::MAX);
                match cell {
                    Cell::Int(n) => {
                        ws.write_number_with_format(r, c, *n as f64, &int)?;
                    }
                    Cell::Pct(Some(p)) => {
                        ws.write_number_with_format(r, c, *p, &pct)?;
                    }
                    Cell::Pct(None) => {
                        ws.write_string(r, c, "—")?;
                    }
                    Cell::Date(d) => {
                        use chrono::Datelike as _;
                        let dt = ExcelDateTime::from_ymd(
                            u16::try_from(d.year()).unwrap_or(1900),
                            u8::try_from(d.month()).unwrap_or(1),
                            u8::try_from(d.day()).unwrap_or(1),
                        )?;
                        ws.write_datetime_with_format(r, c, &dt, &date)?;
                    }
                    Cell::Text(s) if s.is_empty() => {}
                    Cell::Text(s) => {
                        ws.write_string(r, c, s)?;
                    }
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        if !sheet.rows.is_empty() && sheet.columns.len() > 1 {
            let last_row = u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX);
            let last_col = u16::try_from(sheet.columns.len() - 1).unwrap_or(u16::MAX);
            ws.autofilter(0, 0, last_row, last_col)?;
        }
    }
    Ok(wb)
}

/// One sheet as CSV bytes (with the byte-order mark).
pub(crate) fn csv_bytes(sheet: &Sheet, lang: Lang) -> Result<Vec<u8>, ReportError> {
    let mut buf = Vec::from(BOM);
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        w.write_record(sheet.columns.iter().map(|c| c.label(lang)))?;
        for row in &sheet.rows {
            w.write_record(row.iter().map(|cell| match cell {
                Cell::Int(n) => n.to_string(),
                Cell::Pct(Some(p)) => format!("{:.1}%", p * 100.0),
                Cell::Pct(None) => String::new(),
                Cell::Date(d) => d.to_string(),
                Cell::Text(s) => s.clone(),
            }))?;
        }
        w.flush()?;
    }
    buf.flush()?;
    Ok(buf)
}
