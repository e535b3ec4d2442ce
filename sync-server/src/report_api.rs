//! The report endpoints: `GET /v1/report` (the figures as JSON or an XLSX workbook) and
//! `POST /v1/report/records` (the records behind one figure).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use gridwork_core::report::{Period, RecordQuery, ReportExport as _, ReportParams};
use gridwork_schema::territory::Territory;
use gridwork_schema::wire::ErrorBody;
use gridwork_schema::{Label, Lang};
use serde::{Deserialize, Serialize};

use crate::api::{AppState, Body, parse_body};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::report::{RecordRef, may_report, scope_allowed};
use crate::storage::UserRecord;

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The CSV media type (UTF-8, with a byte-order mark so that Excel reads it as such).
pub const CSV: &str = "text/csv; charset=utf-8";

/// How the report goes out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xlsx,
    Csv,
}

/// Most records listed behind one figure.
pub const MAX_RECORDS: usize = 10_000;

/// What report to make.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The period: `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    period: String,
    /// Territory code: district, street, community, grid or zone (`Z01`…); default: the
    /// user's own scope.
    scope: Option<String>,
    /// `json` (default), `xlsx`, or `csv` (one figure group: see `sheet`).
    format: Option<String>,
    /// With `format=csv`: the figure group's key (`overview` by default; `levels`, `areas`,
    /// … as the workbook's sheets, in its order).
    sheet: Option<String>,
    /// Language of the workbook: `zh` (default) or `en`.
    lang: Option<String>,
}

/// The records behind a figure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordsBehind {
    /// How many records the figure counts.
    pub total: usize,
    /// The records, sorted by id (at most 10,000).
    pub records: Vec<RecordRef>,
    /// Whether `records` was cut short.
    pub truncated: bool,
}

/// Refuses users whose role reads no reports.
fn check_role(user: &UserRecord) -> Result<(), ApiError> {
    if may_report(user.role) {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "a {} ({}) may not read reports: they are for supervisors, administrators, leaders \
         and street officers",
        user.role.en(),
        user.role.zh()
    )))
}

/// Checks that `scope` is a unit and lies within the user's own scope.
fn check_scope(user: &UserRecord, scope: &str, territory: &Territory) -> Result<(), ApiError> {
    if !territory.contains(scope) {
        return Err(ApiError::bad_request(
            "unknown_scope",
            format!(
                "{scope:?} is no territory unit (a district, street, community, grid or zone code)"
            ),
        ));
    }
    if !scope_allowed(user, scope, territory) {
        return Err(ApiError::Forbidden(format!(
            "the scope {scope} lies outside your own scope {}",
            user.scope
        )));
    }
    Ok(())
}

/// The supervisors' figures for a period and territory, as JSON, an XLSX workbook or one
/// figure group as CSV.
#[utoipa::path(
    get, path = "/v1/report", tag = "report",
    params(ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report (`format=json`: gridwork_core::report::Report; every figure carries the query of its records)", body = serde_json::Value),
        (status = 200, description = "The workbook (`format=xlsx`), one sheet per figure group", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 200, description = "One figure group as CSV (`format=csv&sheet=KEY`)", content_type = "text/csv; charset=utf-8"),
        (status = 400, description = "Bad period, unknown scope, format, sheet or language", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no reports, or the scope lies outside the user's", body = ErrorBody)
    )
)]
pub(crate) async fn report(
    State(st): State<AppState>,
    AuthUser(auth): AuthUser,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let user = &auth.user;
    check_role(user)?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "bad_query",
            "give ?period=YYYY-MM (or YYYY-MM-DD, or YYYY-MM-DD..YYYY-MM-DD), and optionally \
             scope=CODE, format=json|xlsx|csv, sheet=KEY (with csv) and lang=zh|en",
        )
    })?;
    let period: Period = q.period.parse()?;
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => Format::Json,
        "xlsx" => Format::Xlsx,
        "csv" => Format::Csv,
        _ => {
            return Err(ApiError::bad_request(
                "bad_format",
                "format must be json, xlsx or csv",
            ));
        }
    };
    if q.sheet.is_some() && format != Format::Csv {
        return Err(ApiError::bad_request(
            "bad_query",
            "sheet=KEY goes with format=csv only (the workbook holds every sheet)",
        ));
    }
    let lang = match q.lang.as_deref().unwrap_or("zh") {
        "zh" | "zh-CN" | "zh-cn" => Lang::ZhCn,
        "en" => Lang::En,
        _ => return Err(ApiError::bad_request("bad_lang", "lang must be zh or en")),
    };
    let territory = Territory::chengyang();
    let params = ReportParams::new(period).within(q.scope.unwrap_or_else(|| user.scope.clone()));
    check_scope(user, &params.scope, territory)?;
    let report = crate::report::build(&st.store, &params, territory).await?;
    tracing::info!(user = %user.id, scope = %params.scope, period = %params.period, "report");
    let base = format!(
        "gridwork-report-{}-{}",
        params.scope,
        params.period.label.replace("..", "_to_")
    );
    let (bytes, media, name) = match format {
        Format::Json => return Ok(Json(report).into_response()),
        Format::Xlsx => {
            let bytes = tokio::task::spawn_blocking(move || report.to_xlsx_bytes(lang))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??;
            (bytes, XLSX, format!("{base}.xlsx"))
        }
        Format::Csv => {
            let key = q.sheet.unwrap_or_else(|| "overview".to_owned());
            let bytes = report.sheet_csv_bytes(&key, lang)?;
            (bytes, CSV, format!("{base}-{key}.csv"))
        }
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"report\""));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// The records behind one figure: post the `query` that the figure carries in the report.
#[utoipa::path(
    post, path = "/v1/report/records", tag = "report",
    request_body(content = serde_json::Value, description = "A figure's query (gridwork_core::report::RecordQuery), as found in the report"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The records the figure counts", body = RecordsBehind),
        (status = 400, description = "Malformed query or unknown scope", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no reports, or the scope lies outside the user's", body = ErrorBody)
    )
)]
pub(crate) async fn records(
    State(st): State<AppState>,
    AuthUser(auth): AuthUser,
    Body(body): Body,
) -> Result<Json<RecordsBehind>, ApiError> {
    let user = &auth.user;
    check_role(user)?;
    let query: RecordQuery = parse_body(&body)?;
    let territory = Territory::chengyang();
    check_scope(user, &query.within, territory)?;
    let mut records = crate::report::records_behind(&st.store, &query, territory).await?;
    let total = records.len();
    records.truncate(MAX_RECORDS);
    Ok(Json(RecordsBehind {
        total,
        truncated: total > records.len(),
        records,
    }))
}
