//! The rating as .xlsx: a plain route, so a link downloads it without
//! script. One sheet per list (cities, counties), the columns of the page.

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::error::AppError;
use crate::ratings::{RatingRow, RatingsView};
use crate::reports::http::{ExportQuery, xlsx_response};
use crate::server::rejections::{address_error, plain_error};
use crate::server::session::caller_from_headers;
use crate::server::state::AppState;

/// `/reports/ratings/{code}/xlsx?as_of=…` (see [`crate::ratings::ratings_xlsx_href`]).
pub const RATINGS_XLSX_PATH: &str = "/reports/ratings/{code}/xlsx";

pub async fn ratings_xlsx(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    q: Result<Query<ExportQuery>, QueryRejection>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let (code, q) = match (code, q) {
        (Ok(Path(code)), Ok(Query(q))) => (code, q),
        (Err(e), _) => return plain_error(&address_error(&e.body_text())),
        (_, Err(e)) => return plain_error(&address_error(&e.body_text())),
    };
    let address = connect.map(|Extension(ConnectInfo(a))| a);
    let result = async {
        let caller = caller_from_headers(&state, &headers, address).await?;
        let v = crate::ratings::service::ratings_view(
            &state.deps(),
            &caller,
            &code,
            q.as_of.as_deref(),
        )
        .await?;
        let bytes = workbook(&v).map_err(|e| {
            tracing::error!("ratings xlsx: {e}");
            AppError::Internal
        })?;
        Ok::<_, AppError>((
            format!("{}评估评定-截至{}.xlsx", v.area.name, v.as_of),
            bytes,
        ))
    }
    .await;
    match result {
        Ok((name, bytes)) => xlsx_response(&name, bytes),
        Err(e) => plain_error(&e),
    }
}

/// The columns of a sheet, as on the page.
pub const HEADERS: [&str; 10] = [
    "名次",
    "较上周名次",
    "区划",
    "所属",
    "足额进度",
    "较上周（百分点）",
    "走访户比例",
    "超14天未结核实问题",
    "三方比对不一致",
    "区划代码",
];

pub fn workbook(v: &RatingsView) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color("#F2E6E4");
    let percent = Format::new().set_num_format("0%");
    let title = Format::new().set_bold().set_font_size(14);
    let lists: Vec<(&str, &[RatingRow])> = [
        ("市州", v.cities.as_slice()),
        ("县区", v.counties.as_slice()),
    ]
    .into_iter()
    .filter(|(_, rows)| !rows.is_empty())
    .collect();
    for (name, rows) in lists {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name)?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{}{}评估评定（截至 {}，较 {}）",
                v.area.name, name, v.as_of, v.week_before
            ),
            &title,
        )?;
        for (c, h) in HEADERS.iter().enumerate() {
            sheet.set_column_width(c as u16, (h.chars().count() * 2 + 4).max(10) as f64)?;
            sheet.write_string_with_format(1, c as u16, *h, &header)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let row = i as u32 + 2;
            sheet.write_number(row, 0, f64::from(r.rank))?;
            sheet.write_number(row, 1, r.places_gained() as f64)?;
            sheet.write_string(row, 2, &r.area.name)?;
            sheet.write_string(row, 3, r.parent.as_deref().unwrap_or(""))?;
            sheet.write_number_with_format(row, 4, r.full_percent as f64 / 100.0, &percent)?;
            sheet.write_number(row, 5, r.points_since() as f64)?;
            sheet.write_number_with_format(row, 6, r.visited_percent as f64 / 100.0, &percent)?;
            sheet.write_number(row, 7, r.open_old as f64)?;
            sheet.write_number(row, 8, r.mismatches as f64)?;
            sheet.write_string(row, 9, r.area.code.as_str())?;
        }
        sheet.set_freeze_panes(2, 0)?;
    }
    workbook.save_to_buffer()
}
