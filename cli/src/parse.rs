//! Parsing command-line values into domain values.
//!
//! Messages never echo values that may be residents' personal data (party names, phones).

use anyhow::{Result, bail};
use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _, Utc};
use gridwork_schema::territory::{DISTRICT_CODE, Territory, demo};
use gridwork_schema::{Label, Party, TerritoryPath, UserRef};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ctx::{tr, usage};
use crate::output::snake;

/// Parses a labelled enum from its snake_case name, its Chinese or English label, or one of
/// `aliases` (`(alias, value)`).
pub fn labeled<T>(s: &str, all: &[T], aliases: &[(&str, T)], what: (&str, &str)) -> Result<T>
where
    T: Label + Copy + Serialize + DeserializeOwned,
{
    let s = s.trim();
    let lower = s.to_lowercase().replace(['-', ' '], "_");
    if let Some((_, v)) = aliases.iter().find(|(a, _)| *a == lower) {
        return Ok(*v);
    }
    if let Some(v) = all
        .iter()
        .find(|v| snake(*v) == lower || v.zh() == s || v.en().eq_ignore_ascii_case(s))
    {
        return Ok(*v);
    }
    let names: Vec<String> = all
        .iter()
        .map(|v| format!("{} ({})", snake(v), v.zh()))
        .collect();
    Err(usage(
        &format!("未知的{}“{s}”；可选：{}", what.0, names.join("、")),
        &format!(
            "unknown {} {s:?}; expected one of: {}",
            what.1,
            names.join(", ")
        ),
    ))
}

/// Parses `NAME:PHONE` (or `NAME`, or `NAME:PHONE:ID_NUMBER`) into a party.
pub fn party(s: &str) -> Result<Party> {
    let s = s.replace('：', ":");
    let mut parts = s.splitn(3, ':').map(str::trim);
    let name = parts.next().unwrap_or_default();
    if name.is_empty() {
        return Err(usage(
            "--party 的格式应为 姓名:电话（电话可省略）",
            "--party must be NAME:PHONE (the phone may be left out)",
        ));
    }
    Ok(Party {
        name: name.to_owned(),
        phone: parts.next().unwrap_or_default().to_owned(),
        id_number: parts.next().unwrap_or_default().to_owned(),
        ..Party::default()
    })
}

/// A staff member named on the command line as `NAME` or `ID:NAME`. A bare name that is a
/// demo account's display name gets that account's login as id; otherwise the name is the id.
pub fn staff(s: &str) -> UserRef {
    let s = s.trim();
    if let Some((id, name)) = s.split_once(':') {
        return UserRef::new(id.trim(), name.trim());
    }
    match demo::ACCOUNTS.iter().find(|a| a.display_name == s) {
        Some(a) => UserRef::new(a.login, a.display_name),
        None => UserRef::new(s, s),
    }
}

/// A date: `YYYY-MM-DD` or `today` (local).
pub fn date(s: &str, what: &str) -> Result<NaiveDate> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("today") || s == "今天" {
        return Ok(Local::now().date_naive());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        usage(
            &format!("{what} 应为日期 YYYY-MM-DD 或 today"),
            &format!("{what} must be a date YYYY-MM-DD or `today`"),
        )
    })
}

/// A point in time: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` (local time), or `YYYY-MM-DD` (the
/// end of that local day).
pub fn datetime(s: &str) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| {
                d.and_time(NaiveTime::from_hms_milli_opt(23, 59, 59, 999).unwrap_or_default())
            })
        });
    match naive.and_then(|n| Local.from_local_datetime(&n).earliest()) {
        Some(t) => Ok(t.with_timezone(&Utc)),
        None => Err(usage(
            "--at 应为时间，如 2026-11-20 09:30、2026-11-20 或 RFC 3339",
            "--at must be a time like 2026-11-20 09:30, 2026-11-20 or RFC 3339",
        )),
    }
}

/// The territory path of a grid, community or street code. An unknown code still gets a
/// path (cut from its digits), so that validation names the field that is wrong.
pub fn territory(code: &str) -> TerritoryPath {
    let code = code.trim();
    if let Some(p) = Territory::chengyang().path_of(code) {
        return p;
    }
    let cut = |n: usize| code.get(..n).unwrap_or_default().to_owned();
    match code.len() {
        9 => TerritoryPath {
            street: code.to_owned(),
            ..TerritoryPath::default()
        },
        12 => TerritoryPath {
            street: cut(9),
            community: code.to_owned(),
            grid: String::new(),
        },
        n if n == DISTRICT_CODE.len() => TerritoryPath::default(),
        _ => TerritoryPath {
            street: cut(9),
            community: cut(12),
            grid: code.to_owned(),
        },
    }
}

/// `VALUE` as JSON if it parses, else as a string.
pub fn json_or_string(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned()))
}

/// A location given as `LAT,LON`.
pub fn location(s: &str) -> Result<gridwork_schema::GeoPoint> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let (Some(lat), Some(lon), 2) = (
        parts.first().and_then(|p| p.parse().ok()),
        parts.get(1).and_then(|p| p.parse().ok()),
        parts.len(),
    ) else {
        bail!(tr(
            "位置应为 纬度,经度，如 36.31,120.37",
            "a location must be LAT,LON, e.g. 36.31,120.37"
        ));
    };
    Ok(gridwork_schema::GeoPoint {
        lat,
        lon,
        accuracy_m: None,
    })
}
