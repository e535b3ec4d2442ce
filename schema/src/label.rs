//! Labels: every enum value the UI shows has a zh-CN and an English name.
//!
//! zh-CN is the default because the people in the field read Chinese; English exists for
//! developers, logs and the odd English-speaking supervisor.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    #[serde(rename = "zh-CN", alias = "zh")]
    ZhCn,
    /// English.
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// Every supported language, default first.
    pub const ALL: &'static [Self] = &[Self::ZhCn, Self::En];

    /// The BCP 47 tag (`zh-CN`, `en`), as used in settings and HTTP headers.
    pub fn code(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A language tag that Gridwork has no translation for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language {0:?} (expected zh-CN or en)")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;

    /// Accepts the primary subtag alone too (`zh`, `en-GB`), as browsers send it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Ok(Self::ZhCn)
        } else if primary.eq_ignore_ascii_case("en") {
            Ok(Self::En)
        } else {
            Err(UnknownLang(s.to_owned()))
        }
    }
}

impl Label for Lang {
    fn zh(&self) -> &'static str {
        match self {
            Self::ZhCn => "简体中文",
            Self::En => "英文",
        }
    }

    fn en(&self) -> &'static str {
        match self {
            Self::ZhCn => "Simplified Chinese",
            Self::En => "English",
        }
    }
}

/// A value with a display name in each UI language.
pub trait Label {
    /// The Chinese name, as used in the field and in the district's own reports.
    fn zh(&self) -> &'static str;
    /// The English name.
    fn en(&self) -> &'static str;
    /// The name in `lang`.
    fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::ZhCn => self.zh(),
            Lang::En => self.en(),
        }
    }
}

/// Declares a fieldless enum that serializes as snake_case strings, with zh/en labels and
/// an `ALL` list, so no enum value can ship without its translations.
macro_rules! labeled_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $var:ident => $zh:literal, $en:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $var ),+
        }

        impl $crate::label::Label for $name {
            fn zh(&self) -> &'static str {
                match self { $( Self::$var => $zh ),+ }
            }
            fn en(&self) -> &'static str {
                match self { $( Self::$var => $en ),+ }
            }
        }

        impl $name {
            /// Every value, in declaration order (for pickers and report columns).
            pub const ALL: &'static [Self] = &[$( Self::$var ),+];
        }
    };
}
pub(crate) use labeled_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_defaults_to_chinese_and_parses_browser_tags() {
        assert_eq!(Lang::default(), Lang::ZhCn);
        assert_eq!("zh-CN".parse::<Lang>().unwrap(), Lang::ZhCn);
        assert_eq!("zh".parse::<Lang>().unwrap(), Lang::ZhCn);
        assert_eq!("en-GB".parse::<Lang>().unwrap(), Lang::En);
        assert!("fr".parse::<Lang>().is_err());
        assert_eq!(serde_json::to_string(&Lang::ZhCn).unwrap(), "\"zh-CN\"");
        assert_eq!(Lang::En.label(Lang::ZhCn), "英文");
    }
}
