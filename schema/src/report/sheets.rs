//! The report as tables: one per figure group, with headers in either language. The XLSX
//! and CSV writers (and any generic table view) render these.

use crate::territory::UnitLevel;
use crate::{Label, Lang, StepMethod};
use chrono::NaiveDate;
use serde::Serialize;

use super::model::{Count, Group, LevelBucket, Report};

/// One cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Cell {
    /// A whole number.
    Int(u64),
    /// A share (0.0–1.0), or none (nothing to divide by).
    Pct(Option<f64>),
    /// A day.
    Date(NaiveDate),
    /// Text.
    Text(String),
}

/// A column header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Chinese header.
    pub zh: &'static str,
    /// English header.
    pub en: &'static str,
    /// Width in Excel character units.
    pub width: f64,
}

impl Column {
    /// The header in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }
}

/// One figure group as a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sheet {
    /// Stable key (`overview`, `levels`, …), used for CSV file names.
    pub key: &'static str,
    /// Chinese name (the XLSX sheet name).
    pub zh: &'static str,
    /// English name.
    pub en: &'static str,
    /// Headers.
    pub columns: Vec<Column>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    /// The sheet's name in `lang`.
    pub fn name(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh,
            Lang::En => self.en,
        }
    }
}

fn col(zh: &'static str, en: &'static str, width: f64) -> Column {
    Column { zh, en, width }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn int(n: u64) -> Cell {
    Cell::Int(n)
}

fn sheet(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
) -> Sheet {
    Sheet {
        key,
        zh,
        en,
        columns,
        rows,
    }
}

fn yes_no(b: Option<bool>, lang: Lang) -> Cell {
    text(match (b, lang) {
        (Some(true), Lang::ZhCn) => "是",
        (Some(false), Lang::ZhCn) => "否",
        (Some(true), Lang::En) => "yes",
        (Some(false), Lang::En) => "no",
        (None, _) => "—",
    })
}

impl Report {
    /// Every figure group as a table, headers and labels in `lang`.
    pub fn sheets(&self, lang: Lang) -> Vec<Sheet> {
        let l = |x: &dyn Label| x.label(lang).to_owned();
        let pick = |zh: &str, en: &str| match lang {
            Lang::ZhCn => zh.to_owned(),
            Lang::En => en.to_owned(),
        };
        let mut out = Vec::new();

        // 总览
        let o = &self.overview;
        let m = &self.meta;
        let kv = |zh: &str, en: &str, v: Cell| vec![pick(zh, en).into_text(), v];
        let c = |x: &Count| int(x.n);
        out.push(sheet(
            "overview",
            "总览",
            "Overview",
            vec![col("指标", "Figure", 30.0), col("数值", "Value", 30.0)],
            vec![
                kv(
                    "统计范围",
                    "Scope",
                    text(format!("{}（{}）", m.scope_name, m.scope)),
                ),
                kv(
                    "统计期间",
                    "Period",
                    text(format!("{} – {}", m.window.from, m.window.to)),
                ),
                kv("截至日期", "As of", Cell::Date(m.window.as_of)),
                kv("新发现事项（件）", "Cases found", c(&o.found)),
                kv("已化解（件）", "Cases resolved", c(&o.resolved)),
                kv("已移交（件）", "Cases handed off", c(&o.handed_off)),
                kv("未结（件）", "Cases open", c(&o.open)),
                kv(
                    "其中调解中（件）",
                    "of which in mediation",
                    int(o.in_mediation),
                ),
                kv("重新办理（件）", "Cases reopened", c(&o.reopened)),
                kv(
                    "基层化解率",
                    "Grassroots share",
                    Cell::Pct(o.grassroots_share),
                ),
                kv("目标", "Target", Cell::Pct(Some(o.target))),
                kv("是否达标", "Target met", yes_no(o.meets_target, lang)),
                kv(
                    "吹哨报到事项（件）",
                    "Whistle cases",
                    c(&self.whistle.cases),
                ),
                kv("人民调解（件）", "Mediations", c(&self.mediation.total)),
                kv(
                    "调解成功率",
                    "Mediation success rate",
                    Cell::Pct(self.mediation.success_rate),
                ),
                kv(
                    "公开接访（场次）",
                    "Reception sessions",
                    c(&self.reception.sessions),
                ),
                kv(
                    "接访件数（起）",
                    "Reception cases",
                    int(self.reception.cases),
                ),
                kv(
                    "接访人次",
                    "Reception person-visits",
                    int(self.reception.person_visits),
                ),
                kv(
                    "收到信访（件）",
                    "Petitions received",
                    int(self.petitions.last().map_or(0, |r| r.petitions)),
                ),
                kv(
                    "初信初访（件）",
                    "First petitions",
                    c(&self.first_petitions.received),
                ),
                kv(
                    "逾期初信初访（件）",
                    "Overdue first petitions",
                    c(&self.first_petitions.overdue),
                ),
                kv("排查（次）", "Patrols", c(&self.patrols.total)),
                kv(
                    "网格覆盖率",
                    "Grid coverage",
                    Cell::Pct(self.patrols.coverage),
                ),
                kv(
                    "零上访社区（个）",
                    "Zero-petition communities",
                    int(self.zero_petition.zero),
                ),
                kv(
                    "零上访社区占比",
                    "Zero-petition share",
                    Cell::Pct(self.zero_petition.share),
                ),
            ],
        ));

        // 化解层级
        out.push(sheet(
            "levels",
            "化解层级",
            "Resolution levels",
            vec![
                col("化解层级", "Level", 26.0),
                col("化解件数", "Resolved", 12.0),
                col("占比", "Share", 12.0),
                col("目标", "Target", 12.0),
            ],
            self.levels
                .iter()
                .map(|r| {
                    let target = if r.bucket == LevelBucket::Grassroots {
                        Cell::Pct(Some(o.target))
                    } else {
                        text("")
                    };
                    vec![
                        text(l(&r.bucket)),
                        int(r.resolved),
                        Cell::Pct(r.share),
                        target,
                    ]
                })
                .collect(),
        ));

        // 街道社区
        out.push(sheet(
            "areas",
            "街道社区",
            "Streets and communities",
            vec![
                col("层级", "Level", 8.0),
                col("代码", "Code", 16.0),
                col("名称", "Name", 18.0),
                col("所属街道", "Street", 14.0),
                col("新发现", "Found", 10.0),
                col("已化解", "Resolved", 10.0),
                col("基层化解", "Grassroots", 10.0),
                col("基层化解率", "Grassroots share", 12.0),
                col("未结", "Open", 10.0),
                col("收到信访", "Petitions", 10.0),
            ],
            self.areas
                .iter()
                .map(|r| {
                    let level = if r.unit_level == UnitLevel::Street {
                        UnitLevel::Street
                    } else {
                        UnitLevel::Community
                    };
                    vec![
                        text(l(&level)),
                        text(&r.code),
                        text(&r.name),
                        text(&r.street_name),
                        int(r.found),
                        int(r.resolved),
                        int(r.grassroots),
                        Cell::Pct(r.grassroots_share),
                        int(r.open),
                        int(r.petitions),
                    ]
                })
                .collect(),
        ));

        // 类别, 涉及人数
        let breakdown_cols = |zh: &'static str, en: &'static str| {
            vec![
                col(zh, en, 18.0),
                col("新发现", "Found", 10.0),
                col("已化解", "Resolved", 10.0),
                col("未结", "Open", 10.0),
            ]
        };
        out.push(sheet(
            "categories",
            "类别",
            "Categories",
            breakdown_cols("类别", "Category"),
            self.categories
                .iter()
                .map(|r| vec![text(l(&r.key)), int(r.found), int(r.resolved), int(r.open)])
                .collect(),
        ));
        out.push(sheet(
            "persons",
            "涉及人数",
            "People involved",
            breakdown_cols("涉及人数", "People involved"),
            self.persons
                .iter()
                .map(|r| vec![text(l(&r.key)), int(r.found), int(r.resolved), int(r.open)])
                .collect(),
        ));

        // 未结案件
        let mut rows: Vec<Vec<Cell>> = self
            .open_cases
            .iter()
            .map(|r| {
                vec![
                    text(l(&r.age)),
                    int(r.community),
                    int(r.street),
                    int(r.district),
                    int(r.total),
                ]
            })
            .collect();
        let sum = |f: fn(&super::model::OpenRow) -> u64| self.open_cases.iter().map(f).sum();
        rows.push(vec![
            text(pick("合计", "Total")),
            int(sum(|r| r.community)),
            int(sum(|r| r.street)),
            int(sum(|r| r.district)),
            int(sum(|r| r.total)),
        ]);
        out.push(sheet(
            "open_cases",
            "未结案件",
            "Open cases",
            vec![
                col("已开时长", "Age", 14.0),
                col("社区", "Community", 10.0),
                col("街道", "Street", 10.0),
                col("区", "District", 10.0),
                col("合计", "Total", 10.0),
            ],
            rows,
        ));

        // 吹哨报到
        let mut rows = Vec::new();
        for r in &self.whistle.rows {
            let head = vec![
                text(&r.case_id),
                text(&r.street_name),
                text(&r.community_name),
                text(l(&r.category)),
                Cell::Date(r.whistle_on),
                text(l(&r.status)),
                text(l(&r.level)),
                text(r.leader.clone().unwrap_or_default()),
            ];
            if r.departments.is_empty() {
                let mut row = head.clone();
                row.extend([
                    text(pick("尚无部门报到", "no department yet")),
                    text(""),
                    int(0),
                ]);
                rows.push(row);
            }
            for d in &r.departments {
                let mut row = head.clone();
                row.extend([text(&d.department), Cell::Date(d.reported_on), int(d.parts)]);
                rows.push(row);
            }
        }
        out.push(sheet(
            "whistle",
            "吹哨报到",
            "Whistle cases",
            vec![
                col("事项编号", "Case", 38.0),
                col("街道", "Street", 14.0),
                col("社区", "Community", 16.0),
                col("类别", "Category", 14.0),
                col("吹哨日期", "Whistle blown", 12.0),
                col("状态", "Status", 10.0),
                col("当前层级", "Level", 10.0),
                col("联包领导", "Leader", 12.0),
                col("报到部门", "Department", 16.0),
                col("报到日期", "Reported in", 12.0),
                col("承担事项数", "Parts taken", 12.0),
            ],
            rows,
        ));

        // 人民调解
        out.push(sheet(
            "mediation",
            "人民调解",
            "Mediation",
            vec![
                col("分组", "Group", 16.0),
                col("项目", "Item", 16.0),
                col("件数", "Count", 10.0),
                col("占比", "Share", 10.0),
            ],
            self.mediation
                .rows
                .iter()
                .map(|r| {
                    let item = pick(&r.item, &r.item_en);
                    vec![
                        text(l(&r.group)),
                        text(item),
                        int(r.count),
                        Cell::Pct(r.share),
                    ]
                })
                .collect(),
        ));

        // 公开接访
        out.push(sheet(
            "reception",
            "公开接访",
            "Public reception",
            vec![
                col("分组", "Group", 10.0),
                col("项目", "Item", 18.0),
                col("接访场次", "Sessions", 10.0),
                col("接访件数（起）", "Cases", 14.0),
                col("接访人次", "Person-visits", 10.0),
            ],
            self.reception
                .rows
                .iter()
                .map(|r| {
                    let name = match (r.group, lang) {
                        (Group::Level, Lang::En) => r.key.clone(),
                        (Group::Total, Lang::En) => "total".into(),
                        _ => r.name.clone(),
                    };
                    vec![
                        text(l(&r.group)),
                        text(name),
                        int(r.sessions),
                        int(r.cases),
                        int(r.person_visits),
                    ]
                })
                .collect(),
        ));

        // 信访渠道
        out.push(sheet(
            "petitions",
            "信访渠道",
            "Petition channels",
            vec![
                col("渠道", "Channel", 14.0),
                col("件数", "Petitions", 10.0),
                col("人数", "Persons", 10.0),
                col("其中初信初访", "First petitions", 14.0),
            ],
            self.petitions
                .iter()
                .map(|r| {
                    let name = r.channel.map_or_else(|| pick("合计", "Total"), |c| l(&c));
                    vec![text(name), int(r.petitions), int(r.persons), int(r.first)]
                })
                .collect(),
        ));

        // 初信初访
        let mut rows = Vec::new();
        for r in &self.first_petitions.rows {
            let steps = r
                .overdue
                .iter()
                .map(|s| match lang {
                    Lang::ZhCn => format!("{}第{}步（{}到期）", s.method.zh(), s.seq, s.due),
                    Lang::En => format!("{} #{} (due {})", s.method.en(), s.seq, s.due),
                })
                .collect::<Vec<_>>()
                .join(match lang {
                    Lang::ZhCn => "；",
                    Lang::En => "; ",
                });
            let mut row = vec![
                text(&r.petition_id),
                text(&r.street_name),
                text(&r.community_name),
                text(l(&r.channel)),
                Cell::Date(r.received_on),
                text(steps),
            ];
            for m in StepMethod::ALL {
                row.push(int(
                    r.overdue.iter().filter(|s| s.method == *m).count() as u64
                ));
            }
            row.extend([int(r.overdue.len() as u64), int(u64::from(r.days_overdue))]);
            rows.push(row);
        }
        let mut total = vec![
            text(pick("合计", "Total")),
            text(""),
            text(""),
            text(""),
            text(""),
            text(format!(
                "{}{}",
                self.first_petitions.overdue.n,
                pick("件逾期", " overdue")
            )),
        ];
        for m in &self.first_petitions.by_method {
            total.push(int(m.steps));
        }
        total.extend([
            int(self.first_petitions.by_method.iter().map(|m| m.steps).sum()),
            int(self
                .first_petitions
                .rows
                .iter()
                .map(|r| u64::from(r.days_overdue))
                .max()
                .unwrap_or(0)),
        ]);
        rows.push(total);
        out.push(sheet(
            "first_petitions",
            "初信初访",
            "First petitions",
            vec![
                col("信访编号", "Petition", 38.0),
                col("街道", "Street", 14.0),
                col("社区", "Community", 16.0),
                col("渠道", "Channel", 12.0),
                col("收到日期", "Received", 12.0),
                col("逾期步骤", "Overdue steps", 48.0),
                col("一提速", "Speed up", 8.0),
                col("两约谈", "Interview", 8.0),
                col("三督促", "Supervision", 8.0),
                col("四集中", "Concentration", 8.0),
                col("逾期步数", "Steps overdue", 10.0),
                col("最长逾期天数", "Days overdue", 12.0),
            ],
            rows,
        ));

        // 排查覆盖
        let mut grids: Vec<(&super::model::UnitRow, [u64; 3])> = self
            .patrols
            .per_grid
            .iter()
            .map(|g| (&g.unit, [g.routine, g.key, g.special]))
            .chain(self.patrols.uncovered.iter().map(|u| (u, [0; 3])))
            .collect();
        grids.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        out.push(sheet(
            "patrols",
            "排查覆盖",
            "Patrol coverage",
            vec![
                col("网格代码", "Grid code", 18.0),
                col("网格", "Grid", 20.0),
                col("社区", "Community", 16.0),
                col("街道", "Street", 14.0),
                col("定期排查", "Routine", 10.0),
                col("重点排查", "Key", 10.0),
                col("专项排查", "Special", 10.0),
                col("合计", "Total", 8.0),
                col("是否覆盖", "Covered", 10.0),
            ],
            grids
                .into_iter()
                .map(|(u, [a, b, c])| {
                    vec![
                        text(&u.code),
                        text(&u.name),
                        text(&u.community_name),
                        text(&u.street_name),
                        int(a),
                        int(b),
                        int(c),
                        int(a + b + c),
                        yes_no(Some(a + b + c > 0), lang),
                    ]
                })
                .collect(),
        ));

        // 零上访社区
        out.push(sheet(
            "zero_petition",
            "零上访社区",
            "Zero-petition communities",
            vec![
                col("社区代码", "Community code", 16.0),
                col("社区", "Community", 18.0),
                col("街道", "Street", 14.0),
            ],
            self.zero_petition
                .rows
                .iter()
                .map(|u| vec![text(&u.code), text(&u.name), text(&u.street_name)])
                .collect(),
        ));
        out
    }
}

impl Cell {
    /// The cell as plain text: a share as a percentage with one decimal, no share as "—".
    pub fn to_text(&self) -> String {
        match self {
            Self::Int(n) => n.to_string(),
            Self::Pct(Some(p)) => format!("{:.1}%", p * 100.0),
            Self::Pct(None) => "—".into(),
            Self::Date(d) => d.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

trait IntoText {
    fn into_text(self) -> Cell;
}

impl IntoText for String {
    fn into_text(self) -> Cell {
        Cell::Text(self)
    }
}
