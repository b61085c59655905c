//! The first sheet of an .xlsx workbook, read with every part bounded while
//! it is read.
//!
//! Not calamine: opening a workbook there reads the shared strings, styles,
//! theme and workbook parts whole, with nothing to bound them, and reserves
//! as many strings as the file says it has (`<sst uniqueCount=
//! "99999999999">` alone aborts the process); its range API allocates the
//! used range the sheet declares (`A1:XFD1048576` is 17 billion cells); and
//! none of it can be limited from outside. Here every part is inflated
//! through [`Guard`], which counts the part's bytes and those of the XML
//! event being read; every table taken from the parts is counted; and the
//! sheet's cells stream into the table [`Builder`], which holds the row,
//! column, cell and text limits. What a file says of itself (its
//! dimension, string count or declared sizes) is never used.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use zip::ZipArchive;
use zip::read::ZipFile;

use crate::roster::table::{Builder, Cell, CellText, RawRow, Value, excel_date};

/// Parts in one workbook: a spreadsheet has a dozen or so.
pub const MAX_PARTS: usize = 1_000;
/// The sheet inflated: Excel writes about 40 bytes a cell, so a sheet at
/// the table's cell limit fits.
pub const MAX_SHEET_BYTES: u64 = 256 << 20;
/// Each other part inflated (workbook, relationships, styles, shared
/// strings). A county's member file has about 8 MB of shared strings.
pub const MAX_PART_BYTES: u64 = 32 << 20;
/// One XML tag, text or comment. A cell's is well under 1 KiB.
pub const MAX_EVENT_BYTES: usize = 64 << 10;
/// Shared strings: a county's member file has about 250,000.
pub const MAX_SHARED_STRINGS: usize = 1_000_000;
/// Cell formats and number formats kept (Excel itself stops at 64,000):
/// the ones past this are read as not dates.
const MAX_FORMATS: usize = 65_536;
/// Excel's own size of a sheet.
const EXCEL_ROWS: u32 = 1_048_576;
const EXCEL_COLUMNS: usize = 16_384;

const CORRUPT: &str = "无法作为 Excel（.xlsx）读取：文件已损坏，或不是 Excel 工作簿";

/// Why the workbook stopped being read.
enum Failure {
    Corrupt,
    /// A limit was crossed; the sentence names it.
    Limit(String),
    /// The table builder stopped; its problems say why.
    Stopped,
}

type Result<T> = std::result::Result<T, Failure>;

/// Reads the first sheet of the workbook in `bytes` into `table`.
pub(crate) fn read(bytes: &[u8], table: &mut Builder) {
    match read_book(bytes, table) {
        Ok(()) | Err(Failure::Stopped) => {}
        Err(Failure::Corrupt) => table.stop(0, CORRUPT),
        Err(Failure::Limit(reason)) => table.stop(0, reason),
    }
}

fn read_book(bytes: &[u8], table: &mut Builder) -> Result<()> {
    // The archive's index is parsed whole before anything else: count its
    // entries first (each begins with this signature), so a file of a
    // million empty entries is refused before it is indexed.
    let entries = bytes.windows(4).filter(|w| *w == b"PK\x01\x02").count();
    if entries > MAX_PARTS {
        return Err(Failure::Limit(format!(
            "Excel 文件内部的部件超过 {MAX_PARTS} 个：文件已损坏，或不是 Excel 工作簿"
        )));
    }
    let mut book = Book::open(bytes)?;
    let workbook = match book.part("_rels/.rels", "关系表")? {
        Some(mut rels) => rels.target_of_type("/officeDocument")?,
        None => None,
    }
    .map_or_else(|| "xl/workbook.xml".to_owned(), |t| resolve("", &t));
    let (dir, name) = workbook.rsplit_once('/').unwrap_or(("", &workbook));
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let (sheet_id, date1904) = book
        .part(&workbook, "工作簿")?
        .ok_or(Failure::Corrupt)?
        .first_sheet()?;
    let rels = book
        .part(&format!("{dir}_rels/{name}.rels"), "关系表")?
        .ok_or(Failure::Corrupt)?
        .workbook_rels(&sheet_id)?;
    let sheet = rels.sheet.ok_or(Failure::Corrupt)?;
    let strings = match &rels.shared_strings {
        Some(path) => match book.part(&resolve(&dir, path), "共享字符串")? {
            Some(mut part) => part.shared_strings()?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let formats = match &rels.styles {
        Some(path) => match book.part(&resolve(&dir, path), "样式表")? {
            Some(mut part) => part.date_formats()?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut part = book
        .sheet(&resolve(&dir, &sheet))?
        .ok_or(Failure::Corrupt)?;
    part.sheet(&strings, &formats, date1904, table)
}

/// `target` relative to `dir` (which ends in `/` or is empty), or from the
/// archive's root when it starts with `/`, with `.` and `..` taken out.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(root) => root.to_owned(),
        None => format!("{dir}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The archive, with its entries findable whatever their case (some
/// writers differ from the names the relationships give).
struct Book<'b> {
    zip: ZipArchive<Cursor<&'b [u8]>>,
    names: HashMap<String, usize>,
}

impl<'b> Book<'b> {
    fn open(bytes: &'b [u8]) -> Result<Self> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| Failure::Corrupt)?;
        let mut names = HashMap::new();
        for (i, name) in zip.file_names().enumerate() {
            let name = name.map_err(|_| Failure::Corrupt)?;
            names.insert(name.replace('\\', "/").to_lowercase(), i);
        }
        Ok(Book { zip, names })
    }

    /// A part other than the sheet, if the archive has it.
    fn part(&mut self, path: &str, what: &'static str) -> Result<Option<Part<'_, 'b>>> {
        self.open_part(path, what, MAX_PART_BYTES)
    }

    fn sheet(&mut self, path: &str) -> Result<Option<Part<'_, 'b>>> {
        self.open_part(path, "工作表", MAX_SHEET_BYTES)
    }

    fn open_part(
        &mut self,
        path: &str,
        what: &'static str,
        limit: u64,
    ) -> Result<Option<Part<'_, 'b>>> {
        let Some(&index) = self.names.get(&path.to_lowercase()) else {
            return Ok(None);
        };
        let file = self.zip.by_index(index).map_err(|_| Failure::Corrupt)?;
        let mut xml = quick_xml::Reader::from_reader(Guard {
            inner: BufReader::new(file),
            what,
            limit,
            read: 0,
            event: 0,
            tripped: None,
        });
        xml.config_mut().trim_text(false);
        Ok(Some(Part {
            xml,
            buf: Vec::new(),
        }))
    }
}

/// Inflated bytes on their way to the XML reader, counted: the part's, and
/// the current event's (the reader holds one event whole, so one endless
/// tag or text would otherwise be held whole). Past either limit it fails,
/// so no event is held past [`MAX_EVENT_BYTES`] and one buffer more.
struct Guard<R> {
    inner: R,
    what: &'static str,
    limit: u64,
    read: u64,
    event: usize,
    tripped: Option<String>,
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.read > self.limit {
            self.tripped = Some(format!(
                "Excel 文件中的{}解压后超过 {} MiB：请分批导入",
                self.what,
                self.limit >> 20
            ));
            return Err(io::Error::other("part too large"));
        }
        if self.event > MAX_EVENT_BYTES {
            self.tripped = Some(format!(
                "Excel 文件的{}中有一段超过 {} KiB 的内容：文件已损坏，或不是 Excel 工作簿",
                self.what,
                MAX_EVENT_BYTES >> 10
            ));
            return Err(io::Error::other("xml event too large"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.read += n as u64;
        self.event += n;
        self.inner.consume(n);
    }
}

/// A part's inflated bytes, counted.
type Inflated<'z, 'b> = Guard<BufReader<ZipFile<'z, Cursor<&'b [u8]>>>>;

/// One part being read as XML.
struct Part<'z, 'b> {
    xml: quick_xml::Reader<Inflated<'z, 'b>>,
    buf: Vec<u8>,
}

/// The element names read here, by local name (`x:c` is `c`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Relationship,
    Sheet,
    Sheets,
    WorkbookPr,
    Si,
    T,
    RPh,
    NumFmt,
    CellXfs,
    Xf,
    SheetData,
    Row,
    C,
    V,
    Is,
    Other,
}

fn tag(e: &BytesStart) -> Tag {
    match e.local_name().as_ref() {
        "Relationship" => Tag::Relationship,
        "sheet" => Tag::Sheet,
        "sheets" => Tag::Sheets,
        "workbookPr" => Tag::WorkbookPr,
        "si" => Tag::Si,
        "t" => Tag::T,
        "rPh" => Tag::RPh,
        "numFmt" => Tag::NumFmt,
        "cellXfs" => Tag::CellXfs,
        "xf" => Tag::Xf,
        "sheetData" => Tag::SheetData,
        "row" => Tag::Row,
        "c" => Tag::C,
        "v" => Tag::V,
        "is" => Tag::Is,
        _ => Tag::Other,
    }
}

/// The value of the attribute named `local` (any prefix).
fn attr(e: &BytesStart, local: &str) -> Result<Option<String>> {
    for a in e.attributes() {
        let a = a.map_err(|_| Failure::Corrupt)?;
        if a.key.local_name().as_ref() == local {
            let value = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|_| Failure::Corrupt)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// The character an entity reference stands for: only XML's own five and
/// character references (a workbook has no DTD to define others).
fn entity(r: &BytesRef) -> Result<char> {
    if let Some(c) = r.resolve_char_ref().map_err(|_| Failure::Corrupt)? {
        return Ok(c);
    }
    match r.clone().into_inner().as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => Err(Failure::Corrupt),
    }
}

/// The relationships of the workbook that matter here.
#[derive(Default)]
struct WorkbookRels {
    sheet: Option<String>,
    shared_strings: Option<String>,
    styles: Option<String>,
}

/// How a cell's value is written (its `t`).
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Shared,
    Text,
    Inline,
    Bool,
    Error,
}

impl<'z, 'b> Part<'z, 'b> {
    fn next(&mut self) -> Result<Event<'_>> {
        self.buf.clear();
        self.xml.get_mut().event = 0;
        match self.xml.read_event_into(&mut self.buf) {
            // No workbook part has a DTD: refusing them refuses every
            // entity trick with them.
            Ok(Event::DocType(_)) => Err(Failure::Corrupt),
            Ok(event) => Ok(event),
            Err(_) => Err(match self.xml.get_mut().tripped.take() {
                Some(reason) => Failure::Limit(reason),
                None => Failure::Corrupt,
            }),
        }
    }

    /// The target of the first relationship whose type ends in `suffix`.
    fn target_of_type(&mut self, suffix: &str) -> Result<Option<String>> {
        loop {
            match self.next()? {
                Event::Start(e) | Event::Empty(e)
                    if tag(&e) == Tag::Relationship
                        && attr(&e, "Type")?.is_some_and(|t| t.ends_with(suffix)) =>
                {
                    return attr(&e, "Target");
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    fn workbook_rels(&mut self, sheet_id: &str) -> Result<WorkbookRels> {
        let mut rels = WorkbookRels::default();
        loop {
            match self.next()? {
                Event::Start(e) | Event::Empty(e) if tag(&e) == Tag::Relationship => {
                    let (Some(id), Some(kind), Some(target)) =
                        (attr(&e, "Id")?, attr(&e, "Type")?, attr(&e, "Target")?)
                    else {
                        continue;
                    };
                    if id == sheet_id {
                        if !kind.ends_with("/worksheet") {
                            return Err(Failure::Limit(
                                "工作簿的第一个工作表不是表格（是图表或对话框）：请把名单放在第一个工作表".into(),
                            ));
                        }
                        rels.sheet = Some(target);
                    } else if kind.ends_with("/sharedStrings") {
                        rels.shared_strings = Some(target);
                    } else if kind.ends_with("/styles") {
                        rels.styles = Some(target);
                    }
                }
                Event::Eof => return Ok(rels),
                _ => {}
            }
        }
    }

    /// The relationship id of the first sheet, and whether dates count
    /// from 1904.
    fn first_sheet(&mut self) -> Result<(String, bool)> {
        let mut date1904 = false;
        loop {
            match self.next()? {
                Event::Start(e) | Event::Empty(e) => match tag(&e) {
                    Tag::WorkbookPr => {
                        // `x15:workbookPr` in an extension has no date1904.
                        if let Some(v) = attr(&e, "date1904")? {
                            date1904 = v == "1" || v == "true";
                        }
                    }
                    Tag::Sheet => return Ok((attr(&e, "id")?.ok_or(Failure::Corrupt)?, date1904)),
                    _ => {}
                },
                Event::End(e) if e.local_name().as_ref() == "sheets" => {
                    return Err(Failure::Corrupt);
                }
                Event::Eof => return Err(Failure::Corrupt),
                _ => {}
            }
        }
    }

    fn shared_strings(&mut self) -> Result<Vec<Value>> {
        let mut strings = Vec::new();
        loop {
            let open = match self.next()? {
                Event::Start(e) if tag(&e) == Tag::Si => true,
                Event::Empty(e) if tag(&e) == Tag::Si => false,
                Event::Eof => return Ok(strings),
                _ => continue,
            };
            if strings.len() == MAX_SHARED_STRINGS {
                return Err(Failure::Limit(format!(
                    "Excel 文件中的共享字符串超过 {MAX_SHARED_STRINGS} 个：请分批导入"
                )));
            }
            strings.push(if open {
                self.rich_text()?
            } else {
                Value::Cell(Cell::Empty)
            });
        }
    }

    /// The text of a string item (`si`, `is`) whose start was just read,
    /// through its end: its `t`, or its runs' `t`s, less phonetic guides.
    fn rich_text(&mut self) -> Result<Value> {
        let mut text = CellText::default();
        let mut depth = 0usize;
        let mut phonetic = 0usize;
        let mut in_t = false;
        loop {
            match self.next()? {
                Event::Start(e) => {
                    depth += 1;
                    match tag(&e) {
                        Tag::RPh => phonetic += 1,
                        Tag::T => in_t = true,
                        _ => {}
                    }
                }
                Event::End(e) => {
                    if depth == 0 {
                        return Ok(text.take());
                    }
                    depth -= 1;
                    match e.local_name().as_ref() {
                        "rPh" => phonetic = phonetic.saturating_sub(1),
                        "t" => in_t = false,
                        _ => {}
                    }
                }
                Event::Text(t) if in_t && phonetic == 0 => text.push_str(&t.xml10_content()),
                Event::CData(t) if in_t && phonetic == 0 => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if in_t && phonetic == 0 => text.push(entity(&r)?),
                Event::Eof => return Err(Failure::Corrupt),
                _ => {}
            }
        }
    }

    /// For each cell format (`cellXfs`), whether it shows a date.
    fn date_formats(&mut self) -> Result<Vec<bool>> {
        let mut custom: HashMap<String, bool> = HashMap::new();
        let mut formats = Vec::new();
        let mut in_cell_xfs = false;
        loop {
            let (e, open) = match self.next()? {
                Event::Start(e) => (e, true),
                Event::Empty(e) => (e, false),
                Event::End(e) if e.local_name().as_ref() == "cellXfs" => {
                    in_cell_xfs = false;
                    continue;
                }
                Event::Eof => return Ok(formats),
                _ => continue,
            };
            match tag(&e) {
                Tag::NumFmt if custom.len() < MAX_FORMATS => {
                    if let (Some(id), Some(code)) = (attr(&e, "numFmtId")?, attr(&e, "formatCode")?)
                    {
                        custom.insert(id, is_date_format(&code));
                    }
                }
                Tag::CellXfs => in_cell_xfs = open,
                Tag::Xf if in_cell_xfs && formats.len() < MAX_FORMATS => {
                    let id = attr(&e, "numFmtId")?.unwrap_or_default();
                    let date = custom
                        .get(&id)
                        .copied()
                        .unwrap_or_else(|| builtin_date(&id));
                    formats.push(date);
                }
                _ => {}
            }
        }
    }

    /// The sheet's cells, row by row into `table`.
    fn sheet(
        &mut self,
        strings: &[Value],
        formats: &[bool],
        date1904: bool,
        table: &mut Builder,
    ) -> Result<()> {
        loop {
            match self.next()? {
                Event::Start(e) if tag(&e) == Tag::SheetData => break,
                Event::Empty(e) if tag(&e) == Tag::SheetData => return Ok(()),
                Event::Eof => return Err(Failure::Corrupt),
                _ => {}
            }
        }
        let mut row = RawRow::default();
        let mut row_number = 0u32;
        let mut next_column = 0usize;
        loop {
            let (start, empty) = match self.next()? {
                Event::Start(e) => (Some(cell_or_row(&e)?), false),
                Event::Empty(e) => (Some(cell_or_row(&e)?), true),
                Event::End(e) if e.local_name().as_ref() == "sheetData" => break,
                Event::Eof => return Err(Failure::Corrupt),
                _ => (None, false),
            };
            match start {
                Some(Start::Row(number)) => {
                    let number = number.unwrap_or(row_number + 1);
                    if number == 0 || number > EXCEL_ROWS {
                        return Err(Failure::Corrupt);
                    }
                    if number != row_number {
                        table.push(row_number, std::mem::take(&mut row));
                        row_number = number;
                    }
                    next_column = 0;
                }
                Some(Start::Cell { at, style, kind }) => {
                    let (number, column) = at.unwrap_or((row_number.max(1), next_column));
                    if column >= EXCEL_COLUMNS {
                        return Err(Failure::Corrupt);
                    }
                    if number != row_number {
                        table.push(row_number, std::mem::take(&mut row));
                        row_number = number;
                    }
                    next_column = column + 1;
                    let value = if empty {
                        Value::Cell(Cell::Empty)
                    } else {
                        let is_date = formats.get(style).copied().unwrap_or(false);
                        self.cell(kind, strings, is_date, date1904)?
                    };
                    if let Err(reason) = row.set(column, value) {
                        table.stop(number, reason);
                    }
                }
                Some(Start::Other) | None => {}
            }
            if table.stopped() {
                return Err(Failure::Stopped);
            }
        }
        table.push(row_number, row);
        Ok(())
    }

    /// The value of a cell whose start was just read, through its end.
    fn cell(
        &mut self,
        kind: Kind,
        strings: &[Value],
        is_date: bool,
        date1904: bool,
    ) -> Result<Value> {
        let mut raw = CellText::default();
        let mut inline = None;
        let mut depth = 0usize;
        let mut in_v = false;
        loop {
            match self.next()? {
                Event::Start(e) => {
                    let t = tag(&e);
                    if depth == 0 && t == Tag::Is {
                        inline = Some(self.rich_text()?);
                        continue;
                    }
                    in_v = depth == 0 && t == Tag::V;
                    depth += 1;
                }
                Event::End(_) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    in_v = false;
                }
                Event::Text(t) if in_v => raw.push_str(&t.xml10_content()),
                Event::CData(t) if in_v => raw.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if in_v => raw.push(entity(&r)?),
                Event::Eof => return Err(Failure::Corrupt),
                _ => {}
            }
        }
        if let Some(value) = inline {
            return Ok(value);
        }
        let Some(v) = raw.as_str() else {
            return Ok(raw.take());
        };
        let v = v.trim();
        Ok(match kind {
            _ if v.is_empty() => Value::Cell(Cell::Empty),
            Kind::Shared => {
                let i: usize = v.parse().map_err(|_| Failure::Corrupt)?;
                strings.get(i).cloned().ok_or(Failure::Corrupt)?
            }
            Kind::Text | Kind::Inline => raw.take(),
            Kind::Bool => Value::Cell(Cell::Text(
                match v {
                    "1" | "true" => "是",
                    "0" | "false" => "否",
                    _ => return Err(Failure::Corrupt),
                }
                .to_owned(),
            )),
            Kind::Error => raw.take(),
            Kind::Number => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => {
                    let serial = if date1904 { n + 1462.0 } else { n };
                    match is_date.then(|| excel_date(serial)).flatten() {
                        Some(d) => Value::Cell(Cell::Date(d)),
                        None => Value::Cell(Cell::Number(n)),
                    }
                }
                _ => raw.take(),
            },
        })
    }
}

/// A row or cell start in the sheet, with what it says.
enum Start {
    Row(Option<u32>),
    Cell {
        /// Row and (0-based) column, when the cell says.
        at: Option<(u32, usize)>,
        style: usize,
        kind: Kind,
    },
    Other,
}

fn cell_or_row(e: &BytesStart) -> Result<Start> {
    match tag(e) {
        Tag::Row => {
            let number = match attr(e, "r")? {
                Some(r) => Some(r.trim().parse().map_err(|_| Failure::Corrupt)?),
                None => None,
            };
            Ok(Start::Row(number))
        }
        Tag::C => {
            let at = attr(e, "r")?.map(|r| cell_ref(&r)).transpose()?;
            let style = match attr(e, "s")? {
                Some(s) => s.trim().parse().map_err(|_| Failure::Corrupt)?,
                None => 0,
            };
            let kind = match attr(e, "t")?.as_deref() {
                None | Some("n") => Kind::Number,
                Some("s") => Kind::Shared,
                Some("str" | "d") => Kind::Text,
                Some("inlineStr") => Kind::Inline,
                Some("b") => Kind::Bool,
                Some("e") => Kind::Error,
                Some(_) => return Err(Failure::Corrupt),
            };
            Ok(Start::Cell { at, style, kind })
        }
        _ => Ok(Start::Other),
    }
}

/// `B3` as row 3, column 1.
fn cell_ref(r: &str) -> Result<(u32, usize)> {
    let digits = r
        .find(|c: char| c.is_ascii_digit())
        .ok_or(Failure::Corrupt)?;
    let (letters, number) = r.split_at(digits);
    if letters.is_empty() || letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic())
    {
        return Err(Failure::Corrupt);
    }
    let column = letters.bytes().fold(0usize, |n, b| {
        n * 26 + usize::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row: u32 = number.parse().map_err(|_| Failure::Corrupt)?;
    if column > EXCEL_COLUMNS || row == 0 || row > EXCEL_ROWS {
        return Err(Failure::Corrupt);
    }
    Ok((row, column - 1))
}

/// Whether a number format shows a date or time: a date or time letter
/// outside quotes, brackets and escapes, in its first section.
fn is_date_format(code: &str) -> bool {
    let mut chars = code.chars();
    let (mut quoted, mut bracket) = (false, false);
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '\\' | '_' | '*' => {
                chars.next();
            }
            '[' => bracket = true,
            ']' => bracket = false,
            _ if bracket => {}
            ';' => return false,
            'y' | 'Y' | 'm' | 'M' | 'd' | 'D' | 'h' | 'H' | 's' | 'S' => return true,
            _ => {}
        }
    }
    false
}

/// Excel's built-in date and time formats, with the East Asian ones.
fn builtin_date(id: &str) -> bool {
    matches!(id.parse::<u32>(), Ok(14..=22 | 27..=36 | 45..=47 | 50..=58))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_and_paths_are_read_as_excel_means_them() {
        assert!(matches!(cell_ref("A1"), Ok((1, 0))));
        assert!(matches!(cell_ref("xfd1048576"), Ok((1_048_576, 16_383))));
        assert!(cell_ref("XFE1").is_err());
        assert!(cell_ref("A0").is_err());
        assert!(cell_ref("A1048577").is_err());
        assert!(cell_ref("1").is_err());
        assert_eq!(
            resolve("xl/", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("xl/", "/xl/worksheets/../sharedStrings.xml"),
            "xl/sharedStrings.xml"
        );
        assert_eq!(resolve("", "./xl/workbook.xml"), "xl/workbook.xml");
    }

    /// A workbook whose sheet is `sheet_data`, written by the zip crate.
    fn workbook(sheet_data: &str) -> Vec<u8> {
        use std::io::Write;
        let rels = "http://schemas.openxmlformats.org/package/2006/relationships";
        let doc = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let parts = [
            (
                "_rels/.rels",
                format!(
                    "<Relationships xmlns=\"{rels}\"><Relationship Id=\"rId1\" Type=\"{doc}/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    "<workbook xmlns:r=\"{doc}\"><sheets><sheet name=\"a\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    "<Relationships xmlns=\"{rels}\"><Relationship Id=\"rId1\" Type=\"{doc}/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
                ),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!("<worksheet><sheetData>{sheet_data}</sheetData></worksheet>"),
            ),
        ];
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, text) in parts {
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn the_sheet_is_inflated_no_further_than_its_limit() {
        let header = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>户编号</t></is></c></row>";
        // Empty cells cost nothing to keep: only the inflated bytes stop them.
        let bytes = workbook(&format!(
            "{header}<row r=\"2\">{}</row>",
            "<c r=\"B2\"/>".repeat(200_000)
        ));
        let mut book = Book::open(&bytes).ok().unwrap();
        let mut part = book
            .open_part("xl/worksheets/sheet1.xml", "工作表", 1 << 20)
            .ok()
            .flatten()
            .unwrap();
        let mut table = Builder::new("f.xlsx");
        match part.sheet(&[], &[], false, &mut table) {
            Err(Failure::Limit(reason)) => {
                assert_eq!(reason, "Excel 文件中的工作表解压后超过 1 MiB：请分批导入")
            }
            _ => panic!("read past the limit"),
        }
        // Under the real limit the same sheet is read, and is only a header.
        let mut table = Builder::new("f.xlsx");
        read(&bytes, &mut table);
        let problems = table.finish().unwrap_err();
        assert_eq!(problems[0].reason, "只有表头，没有数据行");
    }

    #[test]
    fn date_formats_are_told_from_number_formats() {
        for date in [
            "yyyy-mm-dd",
            "yyyy\"年\"m\"月\"d\"日\"",
            "[$-804]yyyy/m/d",
            "h:mm",
            "[h]:mm",
        ] {
            assert!(is_date_format(date), "{date}");
        }
        for other in [
            "General",
            "0.00",
            "#,##0;[Red]-#,##0",
            "\"day\"0",
            "0.00E+00",
            "@",
        ] {
            assert!(!is_date_format(other), "{other}");
        }
        assert!(builtin_date("14") && builtin_date("57") && !builtin_date("0"));
    }
}
