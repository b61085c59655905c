//! The demo county as the two files a county office would import: to try
//! the import by hand and to time it on a realistic roster.

use std::collections::HashMap;
use std::fmt::Write;

use crate::demo::DemoData;
use crate::households::Category;
use crate::roster::RosterKind;
use crate::subsidies::{Fen, SubsidyItem};

/// (households file, payments-due file), as CSV with the templates'
/// headers: one row per member, one row per payment due.
pub fn csv_files(data: &DemoData, items: &[SubsidyItem]) -> (String, String) {
    let names: HashMap<&str, &str> = items
        .iter()
        .map(|i| (i.code.as_str(), i.name.as_str()))
        .collect();
    let mut households = header(RosterKind::Households);
    let mut numbers = HashMap::new();
    for h in &data.households {
        numbers.insert(h.id, h.number.as_str());
        let (category, kind) = match h.category {
            Category::Alleviated => ("脱贫户", ""),
            Category::Monitored(k) => ("监测户", k.label()),
        };
        for m in &h.members {
            let row = [
                h.number.as_str(),
                h.village.as_str(),
                &h.head_name,
                category,
                kind,
                if h.relocated { "是" } else { "否" },
                h.phone.as_deref().unwrap_or(""),
                &m.name,
                &m.relation,
                &m.id_number,
                m.labour.label(),
                m.health.label(),
            ];
            push_row(&mut households, &row);
        }
    }
    let mut entitlements = header(RosterKind::Entitlements);
    for e in &data.entitlements {
        let row = [
            numbers[&e.household_id],
            names
                .get(e.item_code.as_str())
                .copied()
                .unwrap_or(&e.item_code),
            &e.stat_year.to_string(),
            &Fen(e.expected_fen).to_input(),
            &e.expected_date.to_string(),
            &e.department,
            e.channel.label(),
        ];
        push_row(&mut entitlements, &row);
    }
    (households, entitlements)
}

fn header(kind: RosterKind) -> String {
    let headers: Vec<&str> = kind.columns().iter().map(|c| c.header).collect();
    format!("{}\n", headers.join(","))
}

fn push_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\n']) {
            let _ = write!(out, "\"{}\"", cell.replace('"', "\"\""));
        } else {
            out.push_str(cell);
        }
    }
    out.push('\n');
}
