//! Reading an uploaded file into rows of cells, whatever it is: an .xlsx
//! workbook (its first sheet), or CSV in UTF-8 (with or without the BOM
//! Excel writes) or GBK, which is how Excel on a Chinese Windows saves
//! "CSV". The format is told by the content, not the file name, so a
//! renamed file is still read or refused for what it is.
//!
//! Every reader is bounded *while* it reads, never after: rows, columns,
//! cells and text are counted as each row arrives, blank rows are skipped
//! without being kept, an over-long cell is counted, not kept, and the
//! first limit crossed stops the reading with a sentence naming it. What a
//! file claims about itself (a used range, a string count, a declared
//! size) is never used to size anything.

use chrono::NaiveDate;

use crate::roster::model::{MAX_PROBLEMS_SHOWN, Problem};

/// Longest text accepted in one cell: names, addresses and codes are far
/// shorter; anything longer is a pasted mistake.
pub const MAX_CELL_CHARS: usize = 200;
/// Data rows in one file. A large county's payments file is about 224,000
/// rows (31,000 households, a few items each) and its member file about
/// 100,000; more than this is a city's or province's roster in one go.
pub const MAX_ROWS: usize = 300_000;
/// Columns that may hold anything: the templates have 12 and 7.
pub const MAX_COLUMNS: usize = 64;
/// Cells kept, counting the empty ones left of each row's last filled cell:
/// a file at [`MAX_ROWS`] with every template column filled fits.
pub const MAX_CELLS: usize = 4_000_000;
/// Text kept over all cells. A 100,000-row member file holds about 15 MB.
pub const MAX_TEXT_BYTES: usize = 64 << 20;

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
    let mut table = Builder::new(file);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(vec![table.problem(0, String::new(), "文件是空的")]);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        crate::roster::xlsx::read(bytes, &mut table);
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        table.stop(
            0,
            "这是旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后再导入",
        );
    } else if bytes.contains(&0) {
        table.stop(0, "不是 Excel（.xlsx）或 CSV 文件");
    } else {
        read_text(bytes, &mut table);
    }
    table.finish()
}

/// A row as a reader hands it over: its cells by column, and the cells too
/// long to keep, by column with their length.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct RawRow {
    cells: Vec<Cell>,
    long: Vec<(usize, usize)>,
}

/// What a reader found in one cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Cell(Cell),
    /// Text of this many characters, more than [`MAX_CELL_CHARS`].
    Long(usize),
}

impl RawRow {
    /// Puts `value` in `column`; a filled cell right of [`MAX_COLUMNS`]
    /// stops the file (the sentence is the error).
    pub(crate) fn set(&mut self, column: usize, value: Value) -> Result<(), String> {
        if value == Value::Cell(Cell::Empty) {
            return Ok(());
        }
        if column >= MAX_COLUMNS {
            return Err(format!(
                "第 {} 列有内容，超出了一行最多 {MAX_COLUMNS} 列的范围：请删去多余的列",
                column + 1
            ));
        }
        match value {
            Value::Cell(cell) => {
                if self.cells.len() <= column {
                    self.cells.resize(column + 1, Cell::Empty);
                }
                self.cells[column] = cell;
            }
            Value::Long(chars) => self.long.push((column, chars)),
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.long.is_empty() && self.cells.iter().all(|c| *c == Cell::Empty)
    }
}

/// Text as it is read into a cell: leading white space is dropped (cells
/// are trimmed), and past [`MAX_CELL_CHARS`] characters are only counted.
#[derive(Debug, Default)]
pub(crate) struct CellText {
    text: String,
    chars: usize,
}

impl CellText {
    pub(crate) fn push_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.push(c));
    }

    pub(crate) fn push(&mut self, c: char) {
        if self.chars == 0 && c.is_whitespace() {
            return;
        }
        self.chars += 1;
        if self.chars <= MAX_CELL_CHARS {
            self.text.push(c);
        }
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.chars == 0
    }

    /// The text so far, if it was short enough to keep.
    pub(crate) fn as_str(&self) -> Option<&str> {
        (self.chars <= MAX_CELL_CHARS).then_some(self.text.as_str())
    }

    pub(crate) fn take(&mut self) -> Value {
        let value = match self.as_str() {
            Some(_) => Value::Cell(text_cell(&self.text)),
            None => Value::Long(self.chars),
        };
        self.text.clear();
        self.chars = 0;
        value
    }
}

/// Builds the table from rows as they are read, holding every limit. Once
/// it has a problem that stops the file it keeps no more rows.
pub(crate) struct Builder<'f> {
    file: &'f str,
    header: Option<(u32, Vec<String>)>,
    rows: Vec<TableRow>,
    cells: usize,
    text_bytes: usize,
    problems: Vec<Problem>,
    stopped: bool,
}

impl<'f> Builder<'f> {
    pub(crate) fn new(file: &'f str) -> Self {
        Builder {
            file,
            header: None,
            rows: Vec::new(),
            cells: 0,
            text_bytes: 0,
            problems: Vec::new(),
            stopped: false,
        }
    }

    fn problem(&self, row: u32, column: String, reason: impl Into<String>) -> Problem {
        Problem {
            file: self.file.to_owned(),
            row,
            column,
            reason: reason.into(),
        }
    }

    /// Stops the reading with one more problem.
    pub(crate) fn stop(&mut self, row: u32, reason: impl Into<String>) {
        let p = self.problem(row, String::new(), reason);
        self.problems.push(p);
        self.stopped = true;
    }

    /// Whether the reader should stop.
    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// Takes the row numbered `number`. Blank rows cost nothing.
    pub(crate) fn push(&mut self, number: u32, mut row: RawRow) {
        if self.stopped || row.is_empty() {
            return;
        }
        while row.cells.last() == Some(&Cell::Empty) {
            row.cells.pop();
        }
        let Some((_, headers)) = &self.header else {
            if let Some((_, chars)) = row.long.first() {
                return self.stop(number, too_long(*chars));
            }
            let headers = row
                .cells
                .into_iter()
                .map(|c| match c {
                    Cell::Text(t) => t,
                    Cell::Empty => String::new(),
                    Cell::Number(n) => n.to_string(),
                    Cell::Date(d) => d.to_string(),
                })
                .collect();
            self.header = Some((number, headers));
            return;
        };
        let long: Vec<Problem> = row
            .long
            .iter()
            .map(|(column, chars)| {
                let column = headers.get(*column).cloned().unwrap_or_default();
                self.problem(number, column, too_long(*chars))
            })
            .collect();
        self.problems.extend(long);
        if self.problems.len() >= MAX_PROBLEMS_SHOWN {
            self.stopped = true;
        }
        if !self.problems.is_empty() {
            // The file is refused already: only more long cells are looked for.
            return;
        }
        if self.rows.len() == MAX_ROWS {
            return self.stop(0, format!("文件超过 {MAX_ROWS} 行数据，请分批导入"));
        }
        self.cells += row.cells.len();
        if self.cells > MAX_CELLS {
            return self.stop(0, format!("文件超过 {MAX_CELLS} 个单元格，请分批导入"));
        }
        self.text_bytes += row
            .cells
            .iter()
            .map(|c| match c {
                Cell::Text(t) => t.len(),
                _ => 0,
            })
            .sum::<usize>();
        if self.text_bytes > MAX_TEXT_BYTES {
            return self.stop(
                0,
                format!("文件中的文字超过 {} MiB，请分批导入", MAX_TEXT_BYTES >> 20),
            );
        }
        self.rows.push(TableRow {
            number,
            cells: row.cells,
        });
    }

    pub(crate) fn finish(self) -> Result<Table, Vec<Problem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        let Some((header_row, headers)) = self.header else {
            return Err(vec![self.problem(0, String::new(), "文件中没有任何内容")]);
        };
        if self.rows.is_empty() {
            return Err(vec![Problem {
                file: self.file.to_owned(),
                row: header_row,
                column: String::new(),
                reason: "只有表头，没有数据行".into(),
            }]);
        }
        Ok(Table {
            header_row,
            headers,
            rows: self.rows,
        })
    }
}

fn too_long(chars: usize) -> String {
    format!("单元格过长（{chars} 个字，最多 {MAX_CELL_CHARS} 个字）")
}

pub(crate) fn text_cell(s: &str) -> Cell {
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
pub(crate) fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_days(chrono::Days::new(serial.floor() as u64))
}

/// CSV text, read where it lies when it is UTF-8, or decoded from GBK a
/// piece at a time: the file is never copied whole.
fn read_text(bytes: &[u8], table: &mut Builder) {
    const UNKNOWN: &str = "无法识别文件的文字编码：请存为 UTF-8 或 GBK 编码的 CSV";
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut csv = Csv::new();
    if let Ok(text) = std::str::from_utf8(bytes) {
        csv.feed(text, table);
        return csv.finish(table);
    }
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut piece = String::with_capacity(64 << 10);
    let mut rest = bytes;
    loop {
        piece.clear();
        // `rest` always ends where the file does, so it is always the last.
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut piece, true);
        rest = &rest[read..];
        if let encoding_rs::DecoderResult::Malformed(..) = result {
            // Rows already read are dropped with the rest: the file is
            // refused for its encoding alone.
            *table = Builder::new(table.file);
            return table.stop(0, UNKNOWN);
        }
        csv.feed(&piece, table);
        if matches!(result, encoding_rs::DecoderResult::InputEmpty) || table.stopped() {
            break;
        }
    }
    csv.finish(table)
}

/// RFC 4180 CSV, fed a piece at a time: commas, double-quoted fields with
/// `""` for a quote, line breaks inside quotes, CRLF, LF or CR.
struct Csv {
    row: RawRow,
    field: CellText,
    column: usize,
    quoted: bool,
    /// Inside quotes, a `"` was just read: a second one is a quote.
    quote: bool,
    /// A record just ended on CR: an LF now belongs to it.
    cr: bool,
    /// The line being read, and the one the record started on.
    line: u32,
    row_start: u32,
}

impl Csv {
    fn new() -> Self {
        Csv {
            row: RawRow::default(),
            field: CellText::default(),
            column: 0,
            quoted: false,
            quote: false,
            cr: false,
            line: 1,
            row_start: 1,
        }
    }

    fn feed(&mut self, text: &str, table: &mut Builder) {
        for c in text.chars() {
            if table.stopped() {
                return;
            }
            self.char(c, table);
        }
    }

    fn char(&mut self, c: char, table: &mut Builder) {
        if std::mem::take(&mut self.cr) && c == '\n' {
            return;
        }
        if self.quoted {
            if std::mem::take(&mut self.quote) {
                if c == '"' {
                    return self.field.push('"');
                }
                self.quoted = false;
                // The quote closed the quoted part; `c` is read as usual.
            } else {
                match c {
                    '"' => self.quote = true,
                    '\n' => {
                        self.line += 1;
                        self.field.push(c);
                    }
                    _ => self.field.push(c),
                }
                return;
            }
        }
        match c {
            '"' if self.field.is_blank() => self.quoted = true,
            ',' => self.end_field(table),
            '\n' | '\r' => {
                self.end_field(table);
                let row = std::mem::take(&mut self.row);
                table.push(self.row_start, row);
                self.column = 0;
                self.line += 1;
                self.row_start = self.line;
                self.cr = c == '\r';
            }
            _ => self.field.push(c),
        }
    }

    fn end_field(&mut self, table: &mut Builder) {
        let value = self.field.take();
        if let Err(reason) = self.row.set(self.column, value) {
            table.stop(self.row_start, reason);
        }
        self.column += 1;
    }

    fn finish(mut self, table: &mut Builder) {
        if table.stopped() {
            return;
        }
        if self.quoted && !self.quote {
            return table.stop(
                self.row_start,
                "引号未闭合：从这一行开始的单元格缺少结尾的引号",
            );
        }
        self.quoted = false;
        self.end_field(table);
        table.push(self.row_start, self.row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    /// Numbered rows, header first; or (row, reason) of each problem.
    type Rows = Result<Vec<(u32, Vec<Cell>)>, Vec<(u32, String)>>;

    fn rows(csv: &str) -> Rows {
        read("f.csv", csv.as_bytes())
            .map(|t| {
                std::iter::once((t.header_row, t.headers.iter().map(|h| text(h)).collect()))
                    .chain(t.rows.into_iter().map(|r| (r.number, r.cells)))
                    .collect()
            })
            .map_err(|p| p.into_iter().map(|p| (p.row, p.reason)).collect())
    }

    #[test]
    fn csv_quotes_line_breaks_and_crlf_are_read() {
        let rows = rows("a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n\n3,\r4\n").unwrap();
        assert_eq!(rows[0], (1, vec![text("a"), text("b")]));
        assert_eq!(rows[1], (2, vec![text("x, \"y\""), text("two\nlines")]));
        assert_eq!(rows[2], (5, vec![text("3")]), "blank line 4 is skipped");
        assert_eq!(rows[3], (6, vec![text("4")]), "a lone CR ends a line");
        assert_eq!(rows.len(), 4);
    }

    #[test]
    fn an_open_quote_names_its_row() {
        let problems = rows("a,b\n1,2\n3,\"oops\n4,5\n").unwrap_err();
        assert_eq!(problems[0].0, 3);
        assert!(problems[0].1.contains("引号未闭合"), "{problems:?}");
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
    fn gbk_is_decoded_in_pieces_across_their_edges() {
        // Longer than one decoding piece, so characters and CRLFs straddle
        // the edges between pieces.
        let body: String = (0..20_000).map(|i| format!("{i},张三\r\n")).collect();
        let csv = format!("户编号,成员姓名\r\n{body}");
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let table = read("名单.csv", &gbk).unwrap();
        assert_eq!(table.rows.len(), 20_000);
        assert!(table.rows.iter().enumerate().all(|(i, r)| {
            r.number == i as u32 + 2 && r.cells == [text(&i.to_string()), text("张三")]
        }));
        let mut bad = gbk.to_vec();
        bad.extend(b"9,\xFF\xFF\n");
        assert_eq!(
            rows_of_bytes(&bad),
            vec![(
                0,
                "无法识别文件的文字编码：请存为 UTF-8 或 GBK 编码的 CSV".to_owned()
            )]
        );
    }

    fn rows_of_bytes(bytes: &[u8]) -> Vec<(u32, String)> {
        read("f.csv", bytes)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.row, p.reason))
            .collect()
    }

    #[test]
    fn files_that_cannot_be_read_say_why() {
        let reason = |bytes: &[u8]| read("f.xlsx", bytes).unwrap_err()[0].reason.clone();
        assert_eq!(reason(b""), "文件是空的");
        assert!(reason(b"PK\x03\x04garbage").contains("无法作为 Excel"));
        assert!(reason(&[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).contains(".xls"));
        assert!(reason(b"\x89PNG\r\n\x1a\n\0\0").contains("不是 Excel"));
        assert_eq!(reason("户编号\n\n".as_bytes()), "只有表头，没有数据行");
        assert_eq!(reason(",,,\n,\n".as_bytes()), "文件中没有任何内容");
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
    fn every_limit_stops_the_reading_and_names_itself() {
        let many_rows: String = std::iter::once("a\n".to_owned())
            .chain((0..=MAX_ROWS).map(|i| format!("{i}\n")))
            .collect();
        assert_eq!(
            rows_of_bytes(many_rows.as_bytes()),
            vec![(0, format!("文件超过 {MAX_ROWS} 行数据，请分批导入"))]
        );
        let wide = format!("a\n{}x\n", ",".repeat(MAX_COLUMNS));
        assert_eq!(
            rows_of_bytes(wide.as_bytes()),
            vec![(
                2,
                "第 65 列有内容，超出了一行最多 64 列的范围：请删去多余的列".to_owned()
            )]
        );
        let full_row = format!("{}\n", vec!["x"; MAX_COLUMNS].join(","));
        let cells: String = std::iter::once("a\n".to_owned())
            .chain(std::iter::repeat_n(full_row, MAX_CELLS / MAX_COLUMNS + 1))
            .collect();
        assert_eq!(
            rows_of_bytes(cells.as_bytes()),
            vec![(0, format!("文件超过 {MAX_CELLS} 个单元格，请分批导入"))]
        );
        let wordy_row = format!("{}\n", vec!["字".repeat(MAX_CELL_CHARS); 10].join(","));
        let text: String = std::iter::once("a\n".to_owned())
            .chain(std::iter::repeat_n(
                wordy_row,
                MAX_TEXT_BYTES / (10 * 3 * MAX_CELL_CHARS) + 1,
            ))
            .collect();
        assert_eq!(
            rows_of_bytes(text.as_bytes()),
            vec![(0, "文件中的文字超过 64 MiB，请分批导入".to_owned())]
        );
    }

    #[test]
    fn blank_lines_and_empty_fields_are_skipped_without_being_kept() {
        let csv = format!("a,b\n{}1,2{}\n", "\n".repeat(100_000), ",".repeat(60));
        let table = read("f.csv", csv.as_bytes()).unwrap();
        assert_eq!(table.rows.len(), 1);
        assert_eq!(table.rows[0].number, 100_002);
        assert_eq!(table.rows[0].cells, [text("1"), text("2")]);
    }

    #[test]
    fn too_many_long_cells_stop_at_what_the_page_shows() {
        let long = "x".repeat(MAX_CELL_CHARS + 1);
        let csv: String = std::iter::once("a,b\n".to_owned())
            .chain((0..2 * MAX_PROBLEMS_SHOWN).map(|_| format!("{long},{long}\n")))
            .collect();
        let problems = read("f.csv", csv.as_bytes()).unwrap_err();
        assert_eq!(problems.len(), MAX_PROBLEMS_SHOWN);
        assert!(problems.iter().all(|p| p.reason.starts_with("单元格过长")));
    }

    #[test]
    fn excel_date_serials_become_dates() {
        assert_eq!(excel_date(45_382.0), NaiveDate::from_ymd_opt(2024, 3, 31));
        assert_eq!(excel_date(61.0), NaiveDate::from_ymd_opt(1900, 3, 1));
        assert_eq!(excel_date(-1.0), None);
    }
}
