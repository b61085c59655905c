//! The dispatch table as the .xlsx file that goes upward every Monday:
//! a title row, the year and dates, two header rows (each item's name
//! merged over its nine figures), one row per child area and a bold total;
//! 元 with two decimals, progress as a percentage, headers frozen. A second
//! sheet carries the plan and risk table (一户一策与收入监测) of the area.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::income::{IncomeFlag, IncomeTable};
use crate::reports::{DispatchTable, Progress};
use crate::text::zh;

/// The nine figures under each item, in order: households due, in full,
/// in part, not received; the amount due, received in full, received in
/// part; progress (of 足额) and its change.
pub const FIGURE_HEADERS: [&str; 9] = [
    "应发户数",
    "足额到户",
    "部分到户",
    "未到户",
    "应发金额（元）",
    "足额到户金额（元）",
    "部分到户金额（元）",
    "足额进度",
    "较上周（百分点）",
];
/// Over all items a household counts once per item due: 户次, not 户.
pub const ALL_ITEMS_COUNT_HEADERS: [&str; 4] = ["应发户次", "足额户次", "部分户次", "未到户次"];
/// Rows above the first area: title, dates, item names, figure names.
pub const HEADER_ROWS: u32 = 4;

/// The file name, e.g. `安定区补贴发放进展调度表-2027-03-01.xlsx`.
pub fn file_name(t: &DispatchTable) -> String {
    format!("{}补贴发放进展调度表-{}.xlsx", t.area.name, t.as_of)
}

/// The dispatch table, and on a second sheet the plan and risk table of
/// the same area.
pub fn dispatch_workbook(t: &DispatchTable, income: &IncomeTable) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    dispatch_sheet(&mut workbook, t)?;
    income_sheet(&mut workbook, income)?;
    workbook.save_to_buffer()
}

/// What a weekly submission adds to its workbook's note sheet.
pub struct SubmissionNote<'a> {
    /// Item name, remark.
    pub remarks: &'a [(String, String)],
    pub contact_name: &'a str,
    pub contact_phone: &'a str,
    pub submitted_by: &'a str,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub figures_hash: &'a str,
}

/// A weekly submission as sent upward: its frozen table, a note sheet
/// (报送说明: the 联络人, the remarks per item, corrections to earlier
/// weeks, the figures' hash), and the plan and risk table.
pub fn submission_workbook(
    report: &crate::weekly::FrozenReport,
    income: &IncomeTable,
    note: &SubmissionNote<'_>,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    dispatch_sheet(&mut workbook, &report.table)?;
    let sheet = workbook.add_worksheet();
    sheet.set_name("报送说明")?;
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let at = crate::subsidies::china_time(note.submitted_at)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let mut lines: Vec<(String, String)> = vec![
        ("截至".into(), report.table.as_of.to_string()),
        ("联络人".into(), note.contact_name.to_owned()),
        ("联系电话".into(), note.contact_phone.to_owned()),
        ("报送人".into(), note.submitted_by.to_owned()),
        ("报送时间（北京时间）".into(), at),
        ("数据摘要（SHA-256）".into(), note.figures_hash.to_owned()),
        ("数据链".into(), report.table.chain.line()),
    ];
    for (item, remark) in note.remarks {
        lines.push((format!("备注：{item}"), remark.clone()));
    }
    for c in &report.corrections {
        lines.push((
            format!("更正：截至 {} {} {}", c.as_of, c.area.name, c.item_name),
            format!(
                "足额 {} → {}，部分 {} → {}，未到 {} → {}，足额金额 {} → {} 元",
                c.submitted.full,
                c.live.full,
                c.submitted.part(),
                c.live.part(),
                c.submitted.none(),
                c.live.none(),
                c.submitted.full_yuan(),
                c.live.full_yuan()
            ),
        ));
    }
    for (r, (label, value)) in lines.iter().enumerate() {
        sheet.write_string_with_format(r as u32, 0, label, &bold)?;
        sheet.write_string_with_format(r as u32, 1, value, &wrap)?;
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 80)?;
    income_sheet(&mut workbook, income)?;
    workbook.save_to_buffer()
}

fn dispatch_sheet(workbook: &mut Workbook, t: &DispatchTable) -> Result<(), XlsxError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name("调度表")?;

    let border = |f: Format| f.set_border(FormatBorder::Thin);
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let note = Format::new().set_align(FormatAlign::Left);
    let header = border(
        Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter)
            .set_text_wrap()
            .set_background_color("#F2E6E4"),
    );
    let name = border(Format::new());
    let count = border(Format::new().set_num_format("#,##0"));
    let yuan = border(Format::new().set_num_format("#,##0.00"));
    let pct = border(Format::new().set_num_format("0.0%"));
    let points = border(Format::new().set_num_format("+0;-0;0"));
    let bold = |f: &Format| f.clone().set_bold();

    // "All items" first, then each item: 1 + 9 columns per group.
    let mut groups: Vec<(String, Option<usize>)> = vec![(zh::ALL_ITEMS.to_owned(), None)];
    groups.extend(
        t.items
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), Some(i))),
    );
    let last_col = (groups.len() * FIGURE_HEADERS.len()) as u16;

    sheet.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{}{}", t.area.name, zh::DISPATCH_TITLE),
        &title,
    )?;
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        &format!(
            "统计年度：{}年度　截至：{}　较上周：{}　单位：户（合计为户次）、元",
            t.stat_year, t.as_of, t.week_before
        ),
        &note,
    )?;
    sheet.merge_range(2, 0, 3, 0, zh::AREA, &header)?;
    for (g, (item, _)) in groups.iter().enumerate() {
        let first = 1 + (g * FIGURE_HEADERS.len()) as u16;
        let last = first + FIGURE_HEADERS.len() as u16 - 1;
        sheet.merge_range(2, first, 2, last, item, &header)?;
        for (k, h) in FIGURE_HEADERS.iter().enumerate() {
            let h = match groups[g].1 {
                None if k < ALL_ITEMS_COUNT_HEADERS.len() => ALL_ITEMS_COUNT_HEADERS[k],
                _ => h,
            };
            sheet.write_string_with_format(3, first + k as u16, h, &header)?;
        }
    }

    let rows = t.rows.iter().map(|r| (r, false)).chain([(&t.total, true)]);
    for (n, (row, is_total)) in rows.enumerate() {
        let r = HEADER_ROWS + n as u32;
        let label = if is_total {
            zh::TOTAL
        } else {
            row.area.name.as_str()
        };
        let pick = |f: &Format| if is_total { bold(f) } else { f.clone() };
        sheet.write_string_with_format(r, 0, label, &pick(&name))?;
        for (g, (_, column)) in groups.iter().enumerate() {
            let first = 1 + (g * FIGURE_HEADERS.len()) as u16;
            let (now, before) = row.figures(*column);
            let counts = [now.due, now.full, now.part(), now.none()];
            let amounts = [now.due_fen, now.full_fen, now.part_fen()];
            let mut c = first;
            for n in counts {
                sheet.write_number_with_format(r, c, n as f64, &pick(&count))?;
                c += 1;
            }
            for fen in amounts {
                sheet.write_number_with_format(r, c, fen as f64 / 100.0, &pick(&yuan))?;
                c += 1;
            }
            sheet.write_number_with_format(r, c, share(&now), &pick(&pct))?;
            let change = now.points_since(&before) as f64;
            sheet.write_number_with_format(r, c + 1, change, &pick(&points))?;
        }
    }

    // What the figures were computed from, to prove them later.
    let below = HEADER_ROWS + t.rows.len() as u32 + 2;
    sheet.merge_range(below, 0, below, last_col, &t.chain.line(), &note)?;

    sheet.set_column_width(0, 14)?;
    for c in 1..=last_col {
        sheet.set_column_width(c, 12)?;
    }
    sheet.set_row_height(3, 32)?;
    sheet.set_freeze_panes(HEADER_ROWS, 1)?;
    Ok(())
}

/// The columns of the plan and risk sheet after the area's name.
pub fn income_headers() -> Vec<String> {
    let mut h = vec![
        zh::HOUSEHOLD_COUNT.to_owned(),
        zh::FLAGGED_HOUSEHOLDS.to_owned(),
    ];
    h.extend(IncomeFlag::ALL.iter().map(|f| f.label().to_owned()));
    h.extend([
        "到期措施".to_owned(),
        "按期完成".to_owned(),
        zh::SUSPICIOUS_VISITS.to_owned(),
        zh::IMPLEMENTATION_RATE.to_owned(),
    ]);
    h
}

/// Rows above the first area on the plan and risk sheet.
pub const INCOME_HEADER_ROWS: u32 = 3;

fn income_sheet(workbook: &mut Workbook, t: &IncomeTable) -> Result<(), XlsxError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name("一户一策与收入监测")?;
    let border = |f: Format| f.set_border(FormatBorder::Thin);
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let header = border(
        Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_text_wrap()
            .set_background_color("#F2E6E4"),
    );
    let count = border(Format::new().set_num_format("#,##0"));
    let pct = border(Format::new().set_num_format("0.0%"));
    let name = border(Format::new());
    let headers = income_headers();
    let last_col = headers.len() as u16;
    sheet.merge_range(
        0,
        0,
        0,
        last_col,
        &format!("{}{}", t.area.name, zh::INCOME_TABLE_TITLE),
        &title,
    )?;
    sheet.merge_range(
        1,
        0,
        1,
        last_col,
        &format!(
            "统计年度：{}年度　监测标准：{}　计算于：{}　单位：户、项",
            t.stat_year,
            t.threshold
                .map(|f| format!("{f} 元/人·年"))
                .unwrap_or_else(|| "—".into()),
            t.as_of.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
        ),
        &Format::new(),
    )?;
    sheet.write_string_with_format(2, 0, zh::AREA, &header)?;
    for (i, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, 1 + i as u16, h, &header)?;
    }
    let rows = t.rows.iter().map(|r| (r, false)).chain([(&t.total, true)]);
    for (n, (row, is_total)) in rows.enumerate() {
        let r = INCOME_HEADER_ROWS + n as u32;
        let pick = |f: &Format| {
            if is_total {
                f.clone().set_bold()
            } else {
                f.clone()
            }
        };
        let label = if is_total {
            zh::TOTAL
        } else {
            row.area.name.as_str()
        };
        sheet.write_string_with_format(r, 0, label, &pick(&name))?;
        let mut figures = vec![row.households, row.flagged];
        figures.extend(row.by_flag);
        figures.extend([
            row.measures_due,
            row.measures_on_time,
            row.suspicious_visits,
        ]);
        for (i, n) in figures.iter().enumerate() {
            sheet.write_number_with_format(r, 1 + i as u16, *n as f64, &pick(&count))?;
        }
        // Nothing due: no rate (the screen shows "—"), not 0 %.
        if row.measures_due == 0 {
            sheet.write_string_with_format(r, last_col, "—", &pick(&name))?;
        } else {
            let rate = row.measures_on_time as f64 / row.measures_due as f64;
            sheet.write_number_with_format(r, last_col, rate, &pick(&pct))?;
        }
    }
    sheet.set_column_width(0, 14)?;
    for c in 1..=last_col {
        sheet.set_column_width(c, 11)?;
    }
    sheet.set_row_height(2, 32)?;
    sheet.set_freeze_panes(INCOME_HEADER_ROWS, 1)?;
    Ok(())
}

/// The amount received in full over the amount due as a fraction, for a
/// `0.0%` cell (the screen's 足额进度).
fn share(p: &Progress) -> f64 {
    if p.due_fen == 0 {
        0.0
    } else {
        p.full_fen as f64 / p.due_fen as f64
    }
}
