use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::areas::Area;

/// One area's place in the week's rating (评估评定).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingRow {
    pub area: Area,
    /// The city a county belongs to (province page), for reading the list.
    pub parent: Option<String>,
    /// Progress received in full (足额), whole per cent of the amount due,
    /// as of the week's day and a week before.
    pub full_percent: i64,
    pub full_percent_before: i64,
    /// Households visited this statistics year, whole per cent.
    pub visited_percent: i64,
    /// Discrepancy items open for more than [`OLD_DAYS`] days.
    pub open_old: i64,
    /// Payments whose three-way match against a payout file disagrees.
    pub mismatches: i64,
    /// 1 is best; `rank_before` is the place a week before (by that week's
    /// progress, the rest as now).
    pub rank: u32,
    pub rank_before: u32,
}

impl RatingRow {
    pub fn points_since(&self) -> i64 {
        self.full_percent - self.full_percent_before
    }

    /// Places gained since the week before (positive: up).
    pub fn places_gained(&self) -> i64 {
        i64::from(self.rank_before) - i64::from(self.rank)
    }
}

/// An item open longer than this counts against its area.
pub const OLD_DAYS: i64 = 14;

/// `/reports/ratings/<area>`: a province's cities and counties, or a
/// city's counties, ranked for the week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingsView {
    pub area: Area,
    pub as_of: NaiveDate,
    pub week_before: NaiveDate,
    /// The province's cities; empty on a city's page.
    pub cities: Vec<RatingRow>,
    pub counties: Vec<RatingRow>,
}

/// The order of the rating: more paid in full first, then more visited,
/// then fewer old items, then fewer mismatches; the area code settles ties
/// so the order is the same every time.
pub fn rank(rows: &mut [RatingRow]) {
    let key = |r: &RatingRow, full: i64| {
        (
            std::cmp::Reverse(full),
            std::cmp::Reverse(r.visited_percent),
            r.open_old,
            r.mismatches,
            r.area.code.to_string(),
        )
    };
    let mut before: Vec<usize> = (0..rows.len()).collect();
    before.sort_by_key(|&i| key(&rows[i], rows[i].full_percent_before));
    for (place, i) in before.into_iter().enumerate() {
        rows[i].rank_before = place as u32 + 1;
    }
    rows.sort_by_key(|r| key(r, r.full_percent));
    for (place, r) in rows.iter_mut().enumerate() {
        r.rank = place as u32 + 1;
    }
}

pub fn ratings_href(area: &str) -> String {
    format!("/reports/ratings/{area}")
}

pub fn ratings_xlsx_href(area: &str, as_of: NaiveDate) -> String {
    format!("/reports/ratings/{area}/xlsx?as_of={as_of}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::AreaCode;

    fn row(code: &str, full: i64, before: i64, visited: i64, old: i64) -> RatingRow {
        RatingRow {
            area: Area {
                code: AreaCode::parse(code).unwrap(),
                name: code.into(),
            },
            parent: None,
            full_percent: full,
            full_percent_before: before,
            visited_percent: visited,
            open_old: old,
            mismatches: 0,
            rank: 0,
            rank_before: 0,
        }
    }

    #[test]
    fn ranks_by_progress_then_visits_then_old_items_and_says_the_move() {
        let mut rows = vec![
            row("621100000000", 50, 60, 70, 0),
            row("621200000000", 80, 40, 10, 0),
            row("621300000000", 50, 10, 70, 3),
            row("621400000000", 50, 10, 90, 9),
        ];
        rank(&mut rows);
        let order: Vec<(&str, u32, u32)> = rows
            .iter()
            .map(|r| (&r.area.name[..4], r.rank, r.rank_before))
            .collect();
        assert_eq!(
            order,
            [
                ("6212", 1, 2),
                ("6214", 2, 3),
                ("6211", 3, 1),
                ("6213", 4, 4)
            ]
        );
        assert_eq!(rows[0].places_gained(), 1);
        assert_eq!(rows[0].points_since(), 40);
    }
}
