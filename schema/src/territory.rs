//! Territory: 区 → 街道 → 社区 → 网格, and the 41 zones (片区).
//!
//! Codes are hierarchical digit strings, so scope checks are prefix checks:
//! district `370214` (6 digits) → street `370214001` (9) → community `370214001001` (12)
//! → grid `370214001001001` (15). Zones are `Z01`…`Z41` and cut across that tree.
//!
//! The district's territory ships as CSV (`schema/data/territory.csv`, see [`Territory::parse_csv`]
//! for the format), made by the seeded generator [`generate`] and loaded by
//! [`Territory::chengyang`]. Demo accounts for every role live in [`demo`].

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// The code of Chengyang District (城阳区), the root of every path.
pub const DISTRICT_CODE: &str = "370214";

/// Where a record hangs in the territory tree: the codes of its street, community and grid.
///
/// A record made at street level (e.g. a street reception session) leaves `community` and
/// `grid` empty; one made at community level leaves `grid` empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct TerritoryPath {
    /// Street code (9 digits); empty only for district-level records.
    #[serde(default)]
    pub street: String,
    /// Community code (12 digits) or empty.
    #[serde(default)]
    pub community: String,
    /// Grid code (15 digits) or empty.
    #[serde(default)]
    pub grid: String,
}

impl TerritoryPath {
    /// The deepest code on the path (grid, else community, else street, else the district).
    pub fn leaf(&self) -> &str {
        [&self.grid, &self.community, &self.street]
            .into_iter()
            .find(|c| !c.is_empty())
            .map(String::as_str)
            .unwrap_or(DISTRICT_CODE)
    }

    /// Whether this path lies inside the territory unit `scope` (any level's code).
    pub fn is_within(&self, scope: &str) -> bool {
        is_within(self.leaf(), scope)
    }
}

/// Whether the unit `code` lies inside (or is) the unit `scope`.
pub fn is_within(code: &str, scope: &str) -> bool {
    code.starts_with(scope)
}

// ---------------------------------------------------------------------------------------------
// Units and levels
// ---------------------------------------------------------------------------------------------

crate::label::labeled_enum! {
    /// The level of a territory unit; labels via [`Label`](crate::label::Label)
    /// (区, 街道, 片区, 社区, 网格).
    pub enum UnitLevel {
        /// 区: the district, root of the tree.
        District => "区", "district",
        /// 街道: a street (sub-district), child of the district.
        Street => "街道", "street",
        /// 片区: a zone, a group of communities inside one street.
        Zone => "片区", "zone",
        /// 社区: a community, child of a street, in one zone.
        Community => "社区", "community",
        /// 网格: a grid, child of a community; what a grid worker patrols.
        Grid => "网格", "grid",
    }
}

impl UnitLevel {
    /// The token used in the CSV `level` column and in JSON (`district`, `street`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            UnitLevel::District => "district",
            UnitLevel::Street => "street",
            UnitLevel::Zone => "zone",
            UnitLevel::Community => "community",
            UnitLevel::Grid => "grid",
        }
    }

    /// The level a unit of this level hangs from (`None` for the district).
    pub fn parent_level(self) -> Option<UnitLevel> {
        match self {
            UnitLevel::District => None,
            UnitLevel::Street => Some(UnitLevel::District),
            UnitLevel::Zone | UnitLevel::Community => Some(UnitLevel::Street),
            UnitLevel::Grid => Some(UnitLevel::Community),
        }
    }
}

impl fmt::Display for UnitLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UnitLevel {
    type Err = TerritoryErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnitLevel::ALL
            .iter()
            .copied()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| TerritoryErrorKind::UnknownLevel(s.to_owned()))
    }
}

/// One unit of the territory: the district, a street, zone, community or grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Which level this unit is.
    pub level: UnitLevel,
    /// Its code: digits for the tree levels, `Z01`… for zones.
    pub code: String,
    /// Its Chinese name, e.g. `小寨子社区`.
    pub name: String,
    /// Its parent's code (`None` only for the district). A zone's parent is its street.
    pub parent: Option<String>,
    /// The zone of a community or grid (`None` for the other levels).
    pub zone: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// A territory CSV that could not be read: the line (1-based, the header is line 1) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("territory CSV line {line}: {kind}")]
pub struct TerritoryError {
    /// 1-based line number in the CSV text.
    pub line: usize,
    /// What is wrong there.
    pub kind: TerritoryErrorKind,
}

/// What is wrong with a line of a territory CSV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerritoryErrorKind {
    /// The first line is not the expected header.
    #[error("expected header `{expected}`, found `{found}`", expected = CSV_HEADER)]
    BadHeader {
        /// The header line as found.
        found: String,
    },
    /// A row has the wrong number of fields.
    #[error("expected 5 fields, found {0}")]
    FieldCount(usize),
    /// A field contains a double quote; quoted fields are not supported.
    #[error("quoted fields are not supported")]
    Quoted,
    /// The `level` column holds an unknown level.
    #[error("unknown level `{0}` (expected district, street, zone, community or grid)")]
    UnknownLevel(String),
    /// The code does not have the form its level requires.
    #[error("code `{code}` is not a valid {level} code ({rule})")]
    BadCode {
        /// The code as found.
        code: String,
        /// The row's level.
        level: UnitLevel,
        /// The form a code of that level must have.
        rule: &'static str,
    },
    /// The name is empty.
    #[error("unit {0} has an empty name")]
    EmptyName(String),
    /// A code appears twice.
    #[error("duplicate code {code} (first defined on line {first_line})")]
    DuplicateCode {
        /// The repeated code.
        code: String,
        /// Where it was first defined.
        first_line: usize,
    },
    /// A second district row.
    #[error("second district {0}: a territory has exactly one district")]
    SecondDistrict(String),
    /// The file has no district row.
    #[error("no district row")]
    NoDistrict,
    /// A row's parent is set where it must be empty, or empty where it is required.
    #[error("{level} {code} {}", if *.expected { "needs a parent_code" } else { "must have an empty parent_code" })]
    ParentPresence {
        /// The unit's code.
        code: String,
        /// The unit's level.
        level: UnitLevel,
        /// Whether a parent was expected.
        expected: bool,
    },
    /// The parent code is not defined on an earlier line.
    #[error("unknown parent {parent} of {code} (parents must be defined on an earlier line)")]
    UnknownParent {
        /// The unit's code.
        code: String,
        /// The parent code as found.
        parent: String,
    },
    /// The parent exists but is of the wrong level.
    #[error("parent {parent} of {level} {code} is a {found}, expected a {expected}")]
    WrongParentLevel {
        /// The unit's code.
        code: String,
        /// The unit's level.
        level: UnitLevel,
        /// The parent's code.
        parent: String,
        /// The level the parent must have.
        expected: UnitLevel,
        /// The level the parent has.
        found: UnitLevel,
    },
    /// The code is not the parent's code followed by three digits.
    #[error("code {code} is not nested in its parent {parent} (expected {parent} + 3 digits)")]
    NotNested {
        /// The unit's code.
        code: String,
        /// The parent's code.
        parent: String,
    },
    /// A community or grid has no zone, or another level has one.
    #[error("{level} {code} {}", if *.expected { "needs a zone_code" } else { "must have an empty zone_code" })]
    ZonePresence {
        /// The unit's code.
        code: String,
        /// The unit's level.
        level: UnitLevel,
        /// Whether a zone was expected.
        expected: bool,
    },
    /// The zone code is not a zone defined on an earlier line.
    #[error("unknown zone {zone} of {code} (zones must be defined on an earlier line)")]
    UnknownZone {
        /// The unit's code.
        code: String,
        /// The zone code as found.
        zone: String,
    },
    /// A community's zone lies in another street.
    #[error("zone {zone} of community {code} belongs to street {zone_street}, not {street}")]
    ZoneOutsideStreet {
        /// The community's code.
        code: String,
        /// Its zone.
        zone: String,
        /// The community's street.
        street: String,
        /// The street the zone belongs to.
        zone_street: String,
    },
    /// A grid's zone differs from its community's zone.
    #[error("zone {zone} of grid {code} differs from its community's zone {community_zone}")]
    ZoneMismatch {
        /// The grid's code.
        code: String,
        /// The grid's zone.
        zone: String,
        /// The zone of the grid's community.
        community_zone: String,
    },
}

// ---------------------------------------------------------------------------------------------
// The territory
// ---------------------------------------------------------------------------------------------

/// The header row of the territory CSV.
pub const CSV_HEADER: &str = "level,code,name,parent_code,zone_code";

/// A parsed territory: every unit, indexed by code, with the tree's children lists.
#[derive(Debug, Clone)]
pub struct Territory {
    units: Vec<Unit>,
    index: HashMap<String, usize>,
    children: Vec<Vec<usize>>,
    district: usize,
    grid_count: usize,
}

static CHENGYANG: LazyLock<Territory> = LazyLock::new(|| {
    Territory::parse_csv(include_str!("../data/territory.csv"))
        .expect("the shipped schema/data/territory.csv is valid")
});

impl Territory {
    /// Chengyang District's territory, parsed once from the shipped `schema/data/territory.csv`.
    ///
    /// ```
    /// use gridwork_schema::territory::Territory;
    /// let t = Territory::chengyang();
    /// assert_eq!(t.grid_count(), 4947);
    /// assert_eq!(t.get("370214001").unwrap().name, "城阳街道");
    /// ```
    pub fn chengyang() -> &'static Territory {
        &CHENGYANG
    }

    /// Parses territory CSV text.
    ///
    /// Format: UTF-8, first line the header `level,code,name,parent_code,zone_code`, then one
    /// unit per line with exactly five comma-separated, unquoted fields (blank lines are
    /// skipped, fields are trimmed):
    ///
    /// | level | code | parent_code | zone_code |
    /// | --- | --- | --- | --- |
    /// | `district` | 6 digits | empty | empty |
    /// | `street` | district code + 3 digits | the district | empty |
    /// | `zone` | `Z` + digits | its street | empty |
    /// | `community` | street code + 3 digits | its street | a zone of that street |
    /// | `grid` | community code + 3 digits | its community | its community's zone |
    ///
    /// Exactly one district; codes are unique; a unit's parent and zone must be defined on an
    /// earlier line. Errors carry the 1-based line number.
    pub fn parse_csv(text: &str) -> Result<Territory, TerritoryError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
        if header != CSV_HEADER {
            return Err(TerritoryError {
                line: 1,
                kind: TerritoryErrorKind::BadHeader {
                    found: header.to_owned(),
                },
            });
        }

        let mut t = Territory {
            units: Vec::new(),
            index: HashMap::new(),
            children: Vec::new(),
            district: usize::MAX,
            grid_count: 0,
        };
        let mut lines_of: Vec<usize> = Vec::new();
        for (line, raw) in lines {
            if raw.trim().is_empty() {
                continue;
            }
            let unit = t
                .check_row(raw, &lines_of)
                .map_err(|kind| TerritoryError { line, kind })?;
            let i = t.units.len();
            if let Some(parent) = &unit.parent {
                let p = t.index[parent];
                t.children[p].push(i);
            }
            match unit.level {
                UnitLevel::District => t.district = i,
                UnitLevel::Grid => t.grid_count += 1,
                _ => {}
            }
            t.index.insert(unit.code.clone(), i);
            t.units.push(unit);
            t.children.push(Vec::new());
            lines_of.push(line);
        }
        if t.district == usize::MAX {
            let line = text.lines().count().max(1);
            return Err(TerritoryError {
                line,
                kind: TerritoryErrorKind::NoDistrict,
            });
        }
        Ok(t)
    }

    /// Checks one data row against the units read so far and returns it as a [`Unit`].
    fn check_row(&self, raw: &str, lines_of: &[usize]) -> Result<Unit, TerritoryErrorKind> {
        use TerritoryErrorKind as E;
        if raw.contains('"') {
            return Err(E::Quoted);
        }
        let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
        let [level, code, name, parent, zone] = fields[..] else {
            return Err(E::FieldCount(fields.len()));
        };
        let level: UnitLevel = level.parse()?;
        check_code_form(level, code)?;
        if name.is_empty() {
            return Err(E::EmptyName(code.to_owned()));
        }
        if let Some(&first) = self.index.get(code) {
            return Err(E::DuplicateCode {
                code: code.to_owned(),
                first_line: lines_of[first],
            });
        }

        // Parent.
        match (level.parent_level(), parent.is_empty()) {
            (None, true) => {
                if self.district != usize::MAX {
                    return Err(E::SecondDistrict(code.to_owned()));
                }
            }
            (Some(expected), false) => {
                let Some(&p) = self.index.get(parent) else {
                    return Err(E::UnknownParent {
                        code: code.to_owned(),
                        parent: parent.to_owned(),
                    });
                };
                let found = self.units[p].level;
                if found != expected {
                    return Err(E::WrongParentLevel {
                        code: code.to_owned(),
                        level,
                        parent: parent.to_owned(),
                        expected,
                        found,
                    });
                }
                if level != UnitLevel::Zone && !is_nested(code, parent) {
                    return Err(E::NotNested {
                        code: code.to_owned(),
                        parent: parent.to_owned(),
                    });
                }
            }
            (expected, _) => {
                return Err(E::ParentPresence {
                    code: code.to_owned(),
                    level,
                    expected: expected.is_some(),
                });
            }
        }

        // Zone.
        let needs_zone = matches!(level, UnitLevel::Community | UnitLevel::Grid);
        if needs_zone == zone.is_empty() {
            return Err(E::ZonePresence {
                code: code.to_owned(),
                level,
                expected: needs_zone,
            });
        }
        if needs_zone {
            let zone_unit = self
                .get(zone)
                .filter(|z| z.level == UnitLevel::Zone)
                .ok_or_else(|| E::UnknownZone {
                    code: code.to_owned(),
                    zone: zone.to_owned(),
                })?;
            if level == UnitLevel::Community {
                let zone_street = zone_unit.parent.as_deref().unwrap_or_default();
                if zone_street != parent {
                    return Err(E::ZoneOutsideStreet {
                        code: code.to_owned(),
                        zone: zone.to_owned(),
                        street: parent.to_owned(),
                        zone_street: zone_street.to_owned(),
                    });
                }
            } else {
                let community_zone = self.units[self.index[parent]]
                    .zone
                    .as_deref()
                    .unwrap_or_default();
                if community_zone != zone {
                    return Err(E::ZoneMismatch {
                        code: code.to_owned(),
                        zone: zone.to_owned(),
                        community_zone: community_zone.to_owned(),
                    });
                }
            }
        }

        Ok(Unit {
            level,
            code: code.to_owned(),
            name: name.to_owned(),
            parent: (!parent.is_empty()).then(|| parent.to_owned()),
            zone: (!zone.is_empty()).then(|| zone.to_owned()),
        })
    }

    /// The unit with this code, if any.
    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.index.get(code).map(|&i| &self.units[i])
    }

    /// Whether a unit with this code exists.
    pub fn contains(&self, code: &str) -> bool {
        self.index.contains_key(code)
    }

    /// The district (the root).
    pub fn district(&self) -> &Unit {
        &self.units[self.district]
    }

    /// Every unit, in file order (parents before children).
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.iter()
    }

    /// The path of a grid, community or street (the district gives an empty path); `None`
    /// for zones and unknown codes.
    pub fn path_of(&self, code: &str) -> Option<TerritoryPath> {
        let unit = self.get(code)?;
        let parent_of = |u: &Unit| u.parent.clone().unwrap_or_default();
        Some(match unit.level {
            UnitLevel::District => TerritoryPath::default(),
            UnitLevel::Street => TerritoryPath {
                street: unit.code.clone(),
                ..TerritoryPath::default()
            },
            UnitLevel::Community => TerritoryPath {
                street: parent_of(unit),
                community: unit.code.clone(),
                grid: String::new(),
            },
            UnitLevel::Grid => {
                let community = parent_of(unit);
                TerritoryPath {
                    street: self.get(&community).map(parent_of).unwrap_or_default(),
                    community,
                    grid: unit.code.clone(),
                }
            }
            UnitLevel::Zone => return None,
        })
    }

    /// The children of `code` that have `level`, in file order (none for unknown codes).
    fn children_at<'a>(
        &'a self,
        code: &str,
        level: UnitLevel,
    ) -> impl Iterator<Item = &'a Unit> + use<'a> {
        self.index
            .get(code)
            .map(|&i| self.children[i].as_slice())
            .unwrap_or_default()
            .iter()
            .map(|&c| &self.units[c])
            .filter(move |u| u.level == level)
    }

    /// The streets of the district.
    pub fn streets(&self) -> impl Iterator<Item = &Unit> {
        self.children_at(&self.district().code, UnitLevel::Street)
    }

    /// The communities of a street (empty for an unknown street).
    pub fn communities_of<'a>(&'a self, street: &str) -> impl Iterator<Item = &'a Unit> + use<'a> {
        self.children_at(street, UnitLevel::Community)
    }

    /// The grids of a community (empty for an unknown community).
    pub fn grids_of<'a>(&'a self, community: &str) -> impl Iterator<Item = &'a Unit> + use<'a> {
        self.children_at(community, UnitLevel::Grid)
    }

    /// The zones of a street (empty for an unknown street).
    pub fn zones_of<'a>(&'a self, street: &str) -> impl Iterator<Item = &'a Unit> + use<'a> {
        self.children_at(street, UnitLevel::Zone)
    }

    /// Every zone, in file order.
    pub fn zones(&self) -> impl Iterator<Item = &Unit> {
        self.at_level(UnitLevel::Zone)
    }

    /// Every community, in file order.
    pub fn communities(&self) -> impl Iterator<Item = &Unit> {
        self.at_level(UnitLevel::Community)
    }

    /// Every grid, in file order.
    pub fn grids(&self) -> impl Iterator<Item = &Unit> {
        self.at_level(UnitLevel::Grid)
    }

    /// Every unit of one level, in file order.
    pub fn at_level(&self, level: UnitLevel) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |u| u.level == level)
    }

    /// The number of grids.
    pub fn grid_count(&self) -> usize {
        self.grid_count
    }

    /// Serializes the territory back to CSV text (the format [`Territory::parse_csv`] reads).
    pub fn to_csv(&self) -> String {
        let mut out = String::with_capacity(self.units.len() * 64);
        out.push_str(CSV_HEADER);
        out.push('\n');
        for u in &self.units {
            push_row(&mut out, u);
        }
        out
    }
}

/// Checks that `code` has the form its level requires.
fn check_code_form(level: UnitLevel, code: &str) -> Result<(), TerritoryErrorKind> {
    let digits = |n: usize| code.len() == n && code.bytes().all(|b| b.is_ascii_digit());
    let (ok, rule) = match level {
        UnitLevel::District => (digits(6), "6 digits"),
        UnitLevel::Street => (digits(9), "9 digits"),
        UnitLevel::Community => (digits(12), "12 digits"),
        UnitLevel::Grid => (digits(15), "15 digits"),
        UnitLevel::Zone => (
            code.len() >= 2
                && code.starts_with('Z')
                && code[1..].bytes().all(|b| b.is_ascii_digit()),
            "`Z` followed by digits",
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(TerritoryErrorKind::BadCode {
            code: code.to_owned(),
            level,
            rule,
        })
    }
}

/// Whether `code` is `parent` followed by exactly three digits.
fn is_nested(code: &str, parent: &str) -> bool {
    code.strip_prefix(parent)
        .is_some_and(|rest| rest.len() == 3 && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Appends one CSV row for `u`.
fn push_row(out: &mut String, u: &Unit) {
    for (i, field) in [
        u.level.as_str(),
        &u.code,
        &u.name,
        u.parent.as_deref().unwrap_or_default(),
        u.zone.as_deref().unwrap_or_default(),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        out.push_str(field);
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

/// The seed that produced the shipped `schema/data/territory.csv`.
pub const SEED: u64 = 20_221_015;

/// The one community named in the source: 小寨子社区 in 城阳街道. It is the first community
/// of 城阳街道, so its code is `370214001001`.
pub const XIAOZHAIZI: &str = "小寨子社区";

/// The eight real streets of Chengyang, in code order, with the generator's plan for each:
/// (name, zones, communities, grids). Zones, communities and grids add up to 41, 284, 4,947.
/// Only the names and the totals are real; the per-street split is plausible, not official.
const STREETS: [(&str, usize, usize, usize); 8] = [
    ("城阳街道", 6, 44, 960),
    ("流亭街道", 5, 30, 560),
    ("夏庄街道", 6, 40, 700),
    ("惜福镇街道", 5, 42, 640),
    ("棘洪滩街道", 5, 36, 560),
    ("上马街道", 5, 34, 500),
    ("河套街道", 4, 26, 427),
    ("红岛街道", 5, 32, 600),
];

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "宋", "郑", "韩", "于", "董", "曹", "袁", "许", "吕", "苏", "蒋", "丁", "薛",
    "姜", "范", "石", "崔", "毛", "邱", "侯", "孟",
];
const VILLAGE_TAILS: [&str; 13] = [
    "庄", "疃", "埠", "屯", "洼", "沟", "营", "寨", "岭", "村", "台", "泊", "湾",
];
const DIRECTIONS: [&str; 12] = [
    "东", "西", "南", "北", "前", "后", "上", "下", "大", "小", "中", "新",
];
const PLACE_CORES: [&str; 40] = [
    "桃林", "柳园", "河崖", "石桥", "泉头", "槐树", "枣行", "杏林", "山角", "沙岭", "古庙", "双埠",
    "荆林", "青峰", "仙山", "金岭", "黄埠", "官路", "白沙", "海屿", "盐滩", "芦荡", "港头", "苇场",
    "石门", "凤凰", "龙泉", "蟠桃", "云头", "马山", "牛齐", "城子", "桥西", "河东", "岔河", "韩洼",
    "西田", "寺后", "楼子", "王林",
];
const SHORT_TAILS: [&str; 5] = ["庄", "屯", "埠", "营", "寨"];
const URBAN_NAMES: [&str; 24] = [
    "正阳", "春阳", "祥阳", "华城", "锦城", "文阳", "长城", "和阳", "凤阳", "崇阳", "瑞阳", "新城",
    "锦绣", "阳光", "幸福", "康城", "和谐", "丰和", "安居", "怡和", "惠民", "宝龙", "荣海", "汇福",
];
const CHINESE_DIGITS: [&str; 10] = ["〇", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// A small helper over the seeded PRNG.
struct Dice(ChaCha8Rng);

impl Dice {
    /// A uniform index below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        // Multiply-shift: uniform enough for names, and stable for a given seed.
        ((u64::from(self.0.next_u32()) * n as u64) >> 32) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// A plausible community-style name (without the `社区` suffix).
    fn community_stem(&mut self) -> String {
        match self.below(20) {
            0..=7 => format!("{}家{}", self.pick(&SURNAMES), self.pick(&VILLAGE_TAILS)),
            8..=14 => format!("{}{}", self.pick(&DIRECTIONS), self.pick(&PLACE_CORES)),
            15..=17 => format!("{}{}", self.pick(&PLACE_CORES), self.pick(&SHORT_TAILS)),
            _ => self.pick(&URBAN_NAMES).to_owned(),
        }
    }
}

/// Generates Chengyang's territory as CSV text, reproducibly from `seed`.
///
/// The eight street names and the counts (41 zones, 4,947 grids) are real; street codes
/// (`370214001`…`370214008`, in the official order), zones, community names and the split of
/// the grids over communities are generated. 小寨子社区 is always `370214001001`.
/// `generate(SEED)` is the shipped `schema/data/territory.csv`.
pub fn generate(seed: u64) -> String {
    let mut dice = Dice(ChaCha8Rng::seed_from_u64(seed));
    let mut used_names = std::collections::HashSet::from([XIAOZHAIZI.to_owned()]);
    let mut units = vec![Unit {
        level: UnitLevel::District,
        code: DISTRICT_CODE.to_owned(),
        name: "城阳区".to_owned(),
        parent: None,
        zone: None,
    }];
    let mut zone_no = 0;
    for (s, &(street_name, zones, communities, grids)) in STREETS.iter().enumerate() {
        let street = format!("{DISTRICT_CODE}{:03}", s + 1);
        units.push(Unit {
            level: UnitLevel::Street,
            code: street.clone(),
            name: street_name.to_owned(),
            parent: Some(DISTRICT_CODE.to_owned()),
            zone: None,
        });
        let zone_codes: Vec<String> = (0..zones)
            .map(|z| {
                zone_no += 1;
                let code = format!("Z{zone_no:02}");
                units.push(Unit {
                    level: UnitLevel::Zone,
                    code: code.clone(),
                    name: format!("{street_name}第{}片区", CHINESE_DIGITS[z + 1]),
                    parent: Some(street.clone()),
                    zone: None,
                });
                code
            })
            .collect();

        let grid_counts = split(&mut dice, grids, communities);
        for (c, &grid_count) in grid_counts.iter().enumerate() {
            let code = format!("{street}{:03}", c + 1);
            let name = if s == 0 && c == 0 {
                XIAOZHAIZI.to_owned()
            } else {
                loop {
                    let stem = dice.community_stem();
                    if plausible(&stem) && used_names.insert(format!("{stem}社区")) {
                        break format!("{stem}社区");
                    }
                }
            };
            // Communities fill the street's zones in contiguous runs.
            let zone = zone_codes[c * zones / communities].clone();
            units.push(Unit {
                level: UnitLevel::Community,
                code: code.clone(),
                name: name.clone(),
                parent: Some(street.clone()),
                zone: Some(zone.clone()),
            });
            for g in 1..=grid_count {
                units.push(Unit {
                    level: UnitLevel::Grid,
                    code: format!("{code}{g:03}"),
                    name: format!("{name}第{g}网格"),
                    parent: Some(code.clone()),
                    zone: Some(zone.clone()),
                });
            }
        }
    }

    let mut out = String::with_capacity(units.len() * 64);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for u in &units {
        push_row(&mut out, u);
    }
    out
}

/// Whether a generated stem reads like a place name: no repeated character (黄埠埠, 东河东),
/// at most one direction word (not 东西田), and not a well-known city (石家庄).
fn plausible(stem: &str) -> bool {
    let chars: Vec<char> = stem.chars().collect();
    let repeated = chars
        .iter()
        .enumerate()
        .any(|(i, c)| chars[i + 1..].contains(c));
    let directions = chars
        .iter()
        .filter(|c| "东西南北前后上下中".contains(**c))
        .count();
    !repeated && directions <= 1 && stem != "石家庄"
}

/// Splits `total` into `parts` positive shares of random weight (1× to 3× of each other).
fn split(dice: &mut Dice, total: usize, parts: usize) -> Vec<usize> {
    let weights: Vec<usize> = (0..parts).map(|_| 5 + dice.below(11)).collect();
    let sum: usize = weights.iter().sum();
    let mut shares: Vec<usize> = weights.iter().map(|w| total * w / sum).collect();
    let mut rest = total - shares.iter().sum::<usize>();
    while rest > 0 {
        shares[dice.below(parts)] += 1;
        rest -= 1;
    }
    shares
}

// ---------------------------------------------------------------------------------------------
// Demo accounts
// ---------------------------------------------------------------------------------------------

/// Demo accounts, one per role, for a local server (`cargo xtask run`) and tests.
///
/// Every scope is a code in [`Territory::chengyang`]; the grid worker's grid is in 小寨子社区.
pub mod demo {
    /// The password of every demo account.
    pub const PASSWORD: &str = "gridwork";

    /// A demo user.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct DemoAccount {
        /// Login name.
        pub login: &'static str,
        /// Display name (Chinese).
        pub display_name: &'static str,
        /// Role name: `grid_worker`, `legal_worker`, `mediator`, `street_officer`,
        /// `department`, `leader`, `supervisor` or `admin`.
        pub role: &'static str,
        /// Territory scope: the code of the unit the account may see.
        pub scope: &'static str,
        /// Department, for department liaisons (and leaders' offices).
        pub department: Option<&'static str>,
    }

    /// One account per role.
    pub const ACCOUNTS: [DemoAccount; 8] = [
        DemoAccount {
            login: "grid",
            display_name: "张伟",
            role: "grid_worker",
            scope: "370214001001001",
            department: None,
        },
        DemoAccount {
            login: "legal",
            display_name: "李娜",
            role: "legal_worker",
            scope: "370214001001",
            department: None,
        },
        DemoAccount {
            login: "mediator",
            display_name: "王芳",
            role: "mediator",
            scope: "370214001001",
            department: None,
        },
        DemoAccount {
            login: "street",
            display_name: "刘强",
            role: "street_officer",
            scope: "370214001",
            department: None,
        },
        DemoAccount {
            login: "dept",
            display_name: "陈静",
            role: "department",
            scope: "370214",
            department: Some("区住房和城乡建设局"),
        },
        DemoAccount {
            login: "leader",
            display_name: "赵刚",
            role: "leader",
            scope: "370214",
            department: Some("区信访局"),
        },
        DemoAccount {
            login: "supervisor",
            display_name: "孙丽",
            role: "supervisor",
            scope: "370214",
            department: None,
        },
        DemoAccount {
            login: "admin",
            display_name: "系统管理员",
            role: "admin",
            scope: "370214",
            department: None,
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        let p = TerritoryPath {
            street: "370214001".into(),
            community: "370214001001".into(),
            grid: String::new(),
        };
        assert_eq!(p.leaf(), "370214001001");
        assert!(p.is_within("370214001"));
        assert!(!p.is_within("370214002"));
        assert_eq!(TerritoryPath::default().leaf(), DISTRICT_CODE);
    }

    #[test]
    fn split_adds_up() {
        let mut dice = Dice(ChaCha8Rng::seed_from_u64(7));
        let shares = split(&mut dice, 427, 26);
        assert_eq!(shares.iter().sum::<usize>(), 427);
        assert!(shares.iter().all(|&s| s > 0));
    }

    #[test]
    fn levels_round_trip() {
        for &l in UnitLevel::ALL {
            assert_eq!(l.as_str().parse::<UnitLevel>(), Ok(l));
        }
        assert_eq!(UnitLevel::Zone.parent_level(), Some(UnitLevel::Street));
        assert_eq!(UnitLevel::Street.parent_level(), Some(UnitLevel::District));
        assert_eq!(UnitLevel::District.parent_level(), None);
    }
}
