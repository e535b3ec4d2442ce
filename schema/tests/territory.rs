//! The shipped territory, its generator, the CSV parser's errors and the demo accounts.

use std::collections::HashSet;

use gridwork_schema::label::{Label, Lang};
use gridwork_schema::territory::{
    self, CSV_HEADER, DISTRICT_CODE, Territory, TerritoryErrorKind, TerritoryPath, UnitLevel,
    XIAOZHAIZI, demo,
};

const SHIPPED: &str = include_str!("../data/territory.csv");

const REAL_STREETS: [&str; 8] = [
    "城阳街道",
    "流亭街道",
    "夏庄街道",
    "惜福镇街道",
    "棘洪滩街道",
    "上马街道",
    "河套街道",
    "红岛街道",
];

#[test]
fn shipped_file_has_41_zones_and_4947_grids() {
    let t = Territory::chengyang();
    assert_eq!(t.zones().count(), 41);
    assert_eq!(t.grid_count(), 4947);
    assert_eq!(t.grids().count(), 4947);
    let zone_codes: Vec<&str> = t.zones().map(|z| z.code.as_str()).collect();
    let expected: Vec<String> = (1..=41).map(|n| format!("Z{n:02}")).collect();
    assert_eq!(zone_codes, expected);
}

#[test]
fn shipped_file_has_the_eight_real_streets_in_code_order() {
    let t = Territory::chengyang();
    assert_eq!(t.district().code, DISTRICT_CODE);
    assert_eq!(t.district().name, "城阳区");
    let streets: Vec<(&str, &str)> = t
        .streets()
        .map(|s| (s.code.as_str(), s.name.as_str()))
        .collect();
    let expected: Vec<(String, &str)> = REAL_STREETS
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("370214{:03}", i + 1), *n))
        .collect();
    let expected: Vec<(&str, &str)> = expected.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    assert_eq!(streets, expected);
}

#[test]
fn xiaozhaizi_is_in_chengyang_street() {
    let t = Territory::chengyang();
    let c = t.get("370214001001").expect("小寨子社区 exists");
    assert_eq!(c.name, XIAOZHAIZI);
    assert_eq!(c.level, UnitLevel::Community);
    assert_eq!(
        t.get(c.parent.as_deref().unwrap()).unwrap().name,
        "城阳街道"
    );
    let found: Vec<_> = t.communities().filter(|c| c.name == "小寨子社区").collect();
    assert_eq!(found.len(), 1);
    let grid = t.grids_of("370214001001").nth(2).unwrap();
    assert_eq!(grid.name, "小寨子社区第3网格");
    assert_eq!(grid.code, "370214001001003");
}

#[test]
fn shipped_file_is_what_the_generator_makes() {
    assert_eq!(
        territory::generate(territory::SEED),
        SHIPPED,
        "schema/data/territory.csv is stale: run `cargo xtask gen-territory`"
    );
}

#[test]
fn generator_is_reproducible_and_other_seeds_keep_the_counts() {
    assert_eq!(territory::generate(1), territory::generate(1));
    assert_ne!(territory::generate(1), territory::generate(2));
    let t = Territory::parse_csv(&territory::generate(1)).unwrap();
    assert_eq!(t.grid_count(), 4947);
    assert_eq!(t.zones().count(), 41);
    assert_eq!(t.get("370214001001").unwrap().name, XIAOZHAIZI);
}

#[test]
fn round_trips_through_to_csv() {
    assert_eq!(Territory::chengyang().to_csv(), SHIPPED);
}

#[test]
fn every_zone_and_grid_belongs_to_its_street() {
    let t = Territory::chengyang();
    for grid in t.grids() {
        let path = t.path_of(&grid.code).unwrap();
        let zone = t.get(grid.zone.as_deref().unwrap()).unwrap();
        assert_eq!(zone.level, UnitLevel::Zone);
        assert_eq!(
            zone.parent.as_deref(),
            Some(path.street.as_str()),
            "{grid:?}"
        );
        let community = t.get(&path.community).unwrap();
        assert_eq!(community.zone, grid.zone);
    }
    // Zones cut across communities only: each community is in exactly one zone, each zone
    // holds at least one community, and each street has ~5 zones.
    for street in t.streets() {
        let zones: HashSet<&str> = t.zones_of(&street.code).map(|z| z.code.as_str()).collect();
        assert!((4..=6).contains(&zones.len()), "{}", street.name);
        let used: HashSet<&str> = t
            .communities_of(&street.code)
            .map(|c| c.zone.as_deref().unwrap())
            .collect();
        assert_eq!(used, zones, "{}", street.name);
    }
}

#[test]
fn communities_are_plausible_and_unique() {
    let t = Territory::chengyang();
    let names: Vec<&str> = t.communities().map(|c| c.name.as_str()).collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "community names are unique");
    assert!(names.iter().all(|n| n.ends_with("社区")));
    for street in t.streets() {
        let n = t.communities_of(&street.code).count();
        assert!(
            (25..=45).contains(&n),
            "{} has {n} communities",
            street.name
        );
    }
    for c in t.communities() {
        for (i, g) in t.grids_of(&c.code).enumerate() {
            assert_eq!(g.name, format!("{}第{}网格", c.name, i + 1));
            assert_eq!(g.code, format!("{}{:03}", c.code, i + 1));
        }
    }
}

#[test]
fn lookups() {
    let t = Territory::chengyang();
    assert!(t.contains("370214001001001"));
    assert!(t.contains("Z41"));
    assert!(!t.contains("370214009"));
    assert!(t.get("nope").is_none());
    assert_eq!(
        t.path_of("370214001001002"),
        Some(TerritoryPath {
            street: "370214001".into(),
            community: "370214001001".into(),
            grid: "370214001001002".into(),
        })
    );
    let p = t.path_of("370214008").unwrap();
    assert_eq!((p.street.as_str(), p.community.as_str()), ("370214008", ""));
    assert_eq!(t.path_of(DISTRICT_CODE), Some(TerritoryPath::default()));
    assert_eq!(t.path_of("Z01"), None);
    assert_eq!(t.path_of("370214999"), None);
    assert_eq!(t.communities_of("370214999").count(), 0);
    assert_eq!(
        t.grids_of("370214001").count(),
        0,
        "a street has no grids as children"
    );
    for grid in t.grids().step_by(97) {
        let path = t.path_of(&grid.code).unwrap();
        assert_eq!(path.leaf(), grid.code);
        assert!(path.is_within(&path.community) && path.is_within(&path.street));
    }
    assert_eq!(UnitLevel::Zone.zh(), "片区");
    assert_eq!(UnitLevel::Grid.label(Lang::En), "grid");
    assert_eq!(
        serde_json::to_string(&UnitLevel::Community).unwrap(),
        "\"community\""
    );
}

#[test]
fn demo_accounts_cover_every_role_inside_the_territory() {
    let t = Territory::chengyang();
    let roles: Vec<&str> = demo::ACCOUNTS.iter().map(|a| a.role).collect();
    assert_eq!(
        roles,
        [
            "grid_worker",
            "legal_worker",
            "mediator",
            "street_officer",
            "department",
            "leader",
            "supervisor",
            "admin"
        ]
    );
    let logins: HashSet<&str> = demo::ACCOUNTS.iter().map(|a| a.login).collect();
    assert_eq!(logins.len(), demo::ACCOUNTS.len());
    for a in demo::ACCOUNTS {
        assert!(t.contains(a.scope), "{a:?}");
    }
    let grid = t.get(demo::ACCOUNTS[0].scope).unwrap();
    assert_eq!(grid.level, UnitLevel::Grid);
    assert_eq!(grid.parent.as_deref(), Some("370214001001"));
    assert!(demo::ACCOUNTS.iter().any(|a| a.department.is_some()));
    assert_eq!(demo::PASSWORD, "gridwork");
}

// --- parse errors -------------------------------------------------------------------------

const GOOD: &str = "\
level,code,name,parent_code,zone_code
district,370214,城阳区,,
street,370214001,城阳街道,370214,
zone,Z01,城阳街道第一片区,370214001,
community,370214001001,小寨子社区,370214001,Z01
grid,370214001001001,小寨子社区第1网格,370214001001,Z01
street,370214002,流亭街道,370214,
zone,Z02,流亭街道第一片区,370214002,
";

/// Parses `GOOD` with `extra` appended and returns the error's line and message.
fn error_of(extra: &str) -> (usize, TerritoryErrorKind, String) {
    let text = format!("{GOOD}{extra}\n");
    let e = Territory::parse_csv(&text).expect_err("should fail");
    (e.line, e.kind.clone(), e.to_string())
}

#[test]
fn a_small_file_parses() {
    let t = Territory::parse_csv(GOOD).unwrap();
    assert_eq!(t.grid_count(), 1);
    assert_eq!(t.streets().count(), 2);
    assert_eq!(t.zones_of("370214002").count(), 1);
    // A BOM, CRLF line ends and blank lines are fine.
    let crlf = format!("\u{feff}{}\r\n\r\n", GOOD.replace('\n', "\r\n"));
    assert_eq!(Territory::parse_csv(&crlf).unwrap().units().count(), 7);
}

#[test]
fn duplicate_code_names_both_lines() {
    let (line, kind, msg) = error_of("street,370214001,又一个街道,370214,");
    assert_eq!(line, 9);
    assert_eq!(
        kind,
        TerritoryErrorKind::DuplicateCode {
            code: "370214001".into(),
            first_line: 3
        }
    );
    assert_eq!(
        msg,
        "territory CSV line 9: duplicate code 370214001 (first defined on line 3)"
    );
}

#[test]
fn unknown_parent() {
    let (line, _, msg) = error_of("community,370214003001,某社区,370214003,Z01");
    assert_eq!(line, 9);
    assert!(
        msg.contains("unknown parent 370214003 of 370214003001"),
        "{msg}"
    );
}

#[test]
fn code_not_nested_in_parent() {
    let (_, kind, msg) = error_of("community,370214002001,某社区,370214001,Z01");
    assert!(
        matches!(kind, TerritoryErrorKind::NotNested { .. }),
        "{msg}"
    );
    assert!(msg.contains("not nested in its parent 370214001"), "{msg}");
}

#[test]
fn wrong_parent_level() {
    let (_, _, msg) = error_of("grid,370214001001,某网格,370214001,Z01");
    assert!(msg.contains("not a valid grid code (15 digits)"), "{msg}");
    let (_, _, msg) = error_of("community,370214001002,某社区,Z01,Z01");
    assert!(msg.contains("is a zone, expected a street"), "{msg}");
}

#[test]
fn zones_must_match_the_tree() {
    let (_, _, msg) = error_of("community,370214001002,某社区,370214001,Z02");
    assert!(
        msg.contains("zone Z02 of community 370214001002 belongs to street 370214002"),
        "{msg}"
    );
    let (_, _, msg) = error_of("community,370214001002,某社区,370214001,Z09");
    assert!(msg.contains("unknown zone Z09"), "{msg}");
    let (_, _, msg) = error_of("community,370214001002,某社区,370214001,");
    assert!(msg.contains("needs a zone_code"), "{msg}");
    let (_, _, msg) = error_of("grid,370214001001002,某网格,370214001001,Z02");
    assert!(
        msg.contains("differs from its community's zone Z01"),
        "{msg}"
    );
    let (_, _, msg) = error_of("street,370214003,某街道,370214,Z01");
    assert!(msg.contains("must have an empty zone_code"), "{msg}");
}

#[test]
fn malformed_rows() {
    let (line, kind, _) = error_of("grid,370214001001002,某网格,370214001001");
    assert_eq!((line, kind), (9, TerritoryErrorKind::FieldCount(4)));
    let (_, _, msg) = error_of("village,370214001002,某村,370214001,Z01");
    assert!(msg.contains("unknown level `village`"), "{msg}");
    let (_, _, msg) = error_of("street,370214003,,370214,");
    assert!(msg.contains("empty name"), "{msg}");
    let (_, _, msg) = error_of("street,370214003,\"某,街道\",370214,");
    assert!(msg.contains("quoted fields are not supported"), "{msg}");
    let (_, _, msg) = error_of("zone,X3,某片区,370214001,");
    assert!(msg.contains("`Z` followed by digits"), "{msg}");
    let (_, _, msg) = error_of("district,370215,即墨区,,");
    assert!(msg.contains("second district"), "{msg}");
    let (_, _, msg) = error_of("street,370214003,某街道,,");
    assert!(msg.contains("needs a parent_code"), "{msg}");
}

#[test]
fn header_and_empty_file() {
    let e = Territory::parse_csv("code,name\n").unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.to_string().contains(CSV_HEADER), "{e}");
    let e = Territory::parse_csv("").unwrap_err();
    assert_eq!(e.line, 1);
    let e = Territory::parse_csv(&format!("{CSV_HEADER}\n")).unwrap_err();
    assert_eq!(e.kind, TerritoryErrorKind::NoDistrict);
}
