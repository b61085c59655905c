//! The downloadable templates: the exact headers the import reads, so a
//! county office fills in a file that is accepted as it is.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::roster::model::RosterKind;

/// An .xlsx with the headers on the first sheet (every column formatted as
/// text, so Excel keeps ID numbers and codes whole) and the rules for each
/// column, with an example, on a second sheet.
pub fn workbook(kind: RosterKind) -> Result<Vec<u8>, XlsxError> {
    let columns = kind.columns();
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color("#F2E6E4");
    let text = Format::new().set_num_format("@");
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);

    let sheet = workbook.add_worksheet();
    sheet.set_name(kind.label())?;
    for (i, c) in columns.iter().enumerate() {
        let col = i as u16;
        sheet.set_column_width(col, (c.header.chars().count() * 2 + 6).max(14) as f64)?;
        sheet.set_column_format(col, &text)?;
        sheet.write_string_with_format(0, col, c.header, &header)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    let help = workbook.add_worksheet();
    help.set_name("填写说明")?;
    for (col, (title, width)) in [
        ("列名", 18.0),
        ("是否必填", 10.0),
        ("填写要求", 60.0),
        ("示例", 22.0),
    ]
    .into_iter()
    .enumerate()
    {
        help.set_column_width(col as u16, width)?;
        help.write_string_with_format(0, col as u16, title, &header)?;
    }
    for (i, c) in columns.iter().enumerate() {
        let row = i as u32 + 1;
        help.write_string(row, 0, c.header)?;
        help.write_string(row, 1, if c.required { "必填" } else { "选填" })?;
        help.write_string_with_format(row, 2, c.rule, &wrap)?;
        help.write_string_with_format(row, 3, c.example, &text)?;
    }
    let last = columns.len() as u32 + 2;
    help.write_string(
        last,
        0,
        "在第一张表中从第2行起填写，不要改动表头；重复导入同一文件不会产生重复数据。",
    )?;
    workbook.save_to_buffer()
}

/// The headers as a CSV line, with the byte-order mark Excel needs to open
/// UTF-8 as such.
pub fn csv(kind: RosterKind) -> Vec<u8> {
    let headers: Vec<&str> = kind.columns().iter().map(|c| c.header).collect();
    format!("\u{FEFF}{}\r\n", headers.join(",")).into_bytes()
}
