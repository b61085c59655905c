//! Reading an uploaded file into rows of cells, whatever it is: an .xlsx
//! workbook (its first sheet), or CSV in UTF-8 (with or without the BOM
//! Excel writes) or GBK, which is how Excel on a Chinese Windows saves
//! "CSV". The format is told by the content, not the file name, so a
//! renamed file is still read or refused for what it is.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;

use crate::roster::model::Problem;

/// Longest text accepted in one cell: names, addresses and codes are far
/// shorter; anything longer is a pasted mistake.
pub const MAX_CELL_CHARS: usize = 200;
/// More rows than a province's roster in one file is a mistake too.
pub const MAX_ROWS: usize = 300_000;

/// A cell as the file holds it. Excel keeps numbers and dates as such, and
/// some columns must refuse them (an ID number stored as a number has
/// already lost its last digits).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

/// A data row with the row number Excel shows for it.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub number: u32,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// The row the headers are on (the first that is not empty).
    pub header_row: u32,
    pub headers: Vec<String>,
    /// Non-empty rows after the header.
    pub rows: Vec<TableRow>,
}

impl TableRow {
    /// The cell in `column`; short rows are empty to the right.
    pub fn cell(&self, column: usize) -> &Cell {
        const EMPTY: &Cell = &Cell::Empty;
        self.cells.get(column).unwrap_or(EMPTY)
    }
}

/// Reads `bytes` uploaded as `file`. A file that cannot be read at all
/// gives one problem for the whole file.
pub fn read(file: &str, bytes: &[u8]) -> Result<Table, Vec<Problem>> {
    let whole = |reason: &str| {
        vec![Problem {
            file: file.to_owned(),
            row: 0,
            column: String::new(),
            reason: reason.to_owned(),
        }]
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(whole("文件是空的"));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
            .map_err(|()| whole("无法作为 Excel（.xlsx）读取：文件已损坏，或不是 Excel 工作簿"))?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(whole(
            "这是旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后再导入",
        ));
    } else if bytes.contains(&0) {
        return Err(whole("不是 Excel（.xlsx）或 CSV 文件"));
    } else {
        let text = decode_text(bytes)
            .ok_or_else(|| whole("无法识别文件的文字编码：请存为 UTF-8 或 GBK 编码的 CSV"))?;
        parse_csv(&text).map_err(|(row, reason)| {
            vec![Problem {
                file: file.to_owned(),
                row,
                column: String::new(),
                reason,
            }]
        })?
    };
    into_table(file, rows)
}

/// Numbered rows as read, before the header is found.
type RawRows = Vec<(u32, Vec<Cell>)>;

fn read_xlsx(bytes: &[u8]) -> Result<RawRows, ()> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| ())?;
    let range = book.worksheet_range_at(0).ok_or(())?.map_err(|_| ())?;
    let first_row = range.start().map_or(0, |(row, _)| row);
    let first_column = range.start().map_or(0, |(_, column)| column) as usize;
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            // Columns left of the used range are empty, not missing.
            let mut row = vec![Cell::Empty; first_column];
            row.extend(cells.iter().map(cell_of));
            (first_row + i as u32 + 1, row)
        })
        .collect())
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => text_cell(s),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.to_owned()),
        Data::DateTime(d) => excel_date(d.as_f64()).map_or(Cell::Number(d.as_f64()), Cell::Date),
        Data::DateTimeIso(s) | Data::DurationIso(s) => text_cell(s),
        Data::Error(e) => Cell::Text(format!("#{e}")),
    }
}

fn text_cell(s: &str) -> Cell {
    let t = s.trim();
    if t.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(t.to_owned())
    }
}

/// Excel's date serial (1900 system): day 1 is 1900-01-01, and day 60 is
/// the 29 February 1900 that never was, so later serials count from
/// 1899-12-30.
fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_days(chrono::Days::new(serial.floor() as u64))
}

fn decode_text(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some(s.to_owned());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    (!had_errors).then(|| text.into_owned())
}

/// RFC 4180 CSV: commas, double-quoted fields with `""` for a quote, line
/// breaks inside quotes, CRLF or LF. The error gives the row a quote was
/// left open on.
fn parse_csv(text: &str) -> Result<RawRows, (u32, String)> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1u32;
    let mut row_start = 1u32;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ',' => row.push(text_cell(&std::mem::take(&mut field))),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                row.push(text_cell(&std::mem::take(&mut field)));
                rows.push((row_start, std::mem::take(&mut row)));
                line += 1;
                row_start = line;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err((
            row_start,
            "引号未闭合：从这一行开始的单元格缺少结尾的引号".to_owned(),
        ));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(text_cell(&field));
        rows.push((row_start, row));
    }
    Ok(rows)
}

fn into_table(file: &str, rows: RawRows) -> Result<Table, Vec<Problem>> {
    let problem = |row: u32, column: &str, reason: String| Problem {
        file: file.to_owned(),
        row,
        column: column.to_owned(),
        reason,
    };
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| *c != Cell::Empty));
    let Some((header_row, header_cells)) = rows.next() else {
        return Err(vec![problem(0, "", "文件中没有任何内容".to_owned())]);
    };
    let headers: Vec<String> = header_cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) => t.clone(),
            Cell::Empty => String::new(),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
        })
        .collect();
    let rows: Vec<TableRow> = rows
        .map(|(number, cells)| TableRow { number, cells })
        .collect();
    if rows.is_empty() {
        return Err(vec![problem(
            header_row,
            "",
            "只有表头，没有数据行".to_owned(),
        )]);
    }
    if rows.len() > MAX_ROWS {
        return Err(vec![problem(
            0,
            "",
            format!(
                "数据行过多（{} 行，一次最多 {MAX_ROWS} 行）：请分成几个文件导入",
                rows.len()
            ),
        )]);
    }
    let mut problems = Vec::new();
    for row in &rows {
        for (i, cell) in row.cells.iter().enumerate() {
            if let Cell::Text(t) = cell {
                let n = t.chars().count();
                if n > MAX_CELL_CHARS {
                    let column = headers.get(i).map_or("", String::as_str);
                    problems.push(problem(
                        row.number,
                        column,
                        format!("单元格过长（{n} 个字，最多 {MAX_CELL_CHARS} 个字）"),
                    ));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(Table {
            header_row,
            headers,
            rows,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn csv_quotes_line_breaks_and_crlf_are_read() {
        let rows = parse_csv("a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n\n3,\n").unwrap();
        assert_eq!(rows[0], (1, vec![text("a"), text("b")]));
        assert_eq!(rows[1], (2, vec![text("x, \"y\""), text("two\nlines")]));
        assert_eq!(rows[2], (4, vec![Cell::Empty]));
        assert_eq!(rows[3], (5, vec![text("3"), Cell::Empty]));
    }

    #[test]
    fn an_open_quote_names_its_row() {
        let (row, reason) = parse_csv("a,b\n1,2\n3,\"oops\n4,5\n").unwrap_err();
        assert_eq!(row, 3);
        assert!(reason.contains("引号未闭合"), "{reason}");
    }

    #[test]
    fn gbk_csv_as_excel_saves_it_is_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("户编号,成员姓名\n1,张三\n");
        let table = read("名单.csv", &gbk).unwrap();
        assert_eq!(table.headers, ["户编号", "成员姓名"]);
        assert_eq!(table.rows[0].cells, [text("1"), text("张三")]);
        assert_eq!(table.rows[0].number, 2);
    }

    #[test]
    fn files_that_cannot_be_read_say_why() {
        let reason = |bytes: &[u8]| read("f.xlsx", bytes).unwrap_err()[0].reason.clone();
        assert_eq!(reason(b""), "文件是空的");
        assert!(reason(b"PK\x03\x04garbage").contains("无法作为 Excel"));
        assert!(reason(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).contains(".xls"));
        assert!(reason(b"\x89PNG\r\n\x1a\n\0\0").contains("不是 Excel"));
        assert_eq!(reason("户编号\n\n".as_bytes()), "只有表头，没有数据行");
    }

    #[test]
    fn a_huge_cell_is_refused_with_its_row_and_column() {
        let csv = format!("户编号,户主姓名\n1,{}\n", "长".repeat(MAX_CELL_CHARS + 1));
        let problems = read("f.csv", csv.as_bytes()).unwrap_err();
        assert_eq!(problems[0].row, 2);
        assert_eq!(problems[0].column, "户主姓名");
        assert_eq!(problems[0].reason, "单元格过长（201 个字，最多 200 个字）");
    }

    #[test]
    fn excel_date_serials_become_dates() {
        assert_eq!(excel_date(45_382.0), NaiveDate::from_ymd_opt(2024, 3, 31));
        assert_eq!(excel_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(excel_date(-1.0), None);
    }
}
