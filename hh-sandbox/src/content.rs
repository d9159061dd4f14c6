//! The clinical content the sandbox serves: products, algorithms, nodes, questions, answers,
//! conclusions and the branching between them. It is data (`content/content.json`), loaded
//! once; this module only describes its shape and evaluates its conditions.

use std::collections::HashMap;

use serde::Deserialize;

/// The content shipped with the sandbox.
pub(crate) const BUILT_IN: &str = include_str!("../content/content.json");

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Product {
    pub(crate) short_code: String,
    #[allow(dead_code)]
    pub(crate) name: String,
    pub(crate) assessment_type: i32,
    pub(crate) start_node: i32,
    pub(crate) languages: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Algo {
    pub(crate) algo_id: i32,
    pub(crate) algo_name: String,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Node {
    pub(crate) node_id: i32,
    pub(crate) algo_id: i32,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) display_text: Option<String>,
    #[serde(default)]
    pub(crate) explanation: Option<String>,
    #[serde(default)]
    pub(crate) is_table: bool,
    /// Nodes shown on the same page, after this one.
    #[serde(default)]
    pub(crate) group: Vec<i32>,
    pub(crate) questions: Vec<Question>,
    #[serde(default)]
    pub(crate) conclude: Vec<Conclude>,
    #[serde(default)]
    pub(crate) next: Vec<Next>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Question {
    pub(crate) question_id: i32,
    #[serde(default)]
    pub(crate) display_text: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) explanation: Option<String>,
    pub(crate) answers: Vec<Answer>,
    /// Answers to it are kept in the member's permanent history.
    #[serde(default)]
    pub(crate) permanent: bool,
    /// May be left unanswered.
    #[serde(default)]
    pub(crate) optional: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Answer {
    pub(crate) answer_id: i32,
    pub(crate) control_type: String,
    #[serde(default)]
    pub(crate) display_text: Option<String>,
    #[serde(default)]
    pub(crate) explanation: Option<String>,
    #[serde(default)]
    pub(crate) data: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) min: Option<f64>,
    #[serde(default)]
    pub(crate) max: Option<f64>,
    #[serde(default)]
    pub(crate) min_length: Option<usize>,
    #[serde(default)]
    pub(crate) max_length: Option<usize>,
    /// The fixed value of a `Hidden` answer.
    #[serde(default)]
    pub(crate) value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Conclude {
    #[serde(rename = "if", default)]
    pub(crate) when: Option<Condition>,
    pub(crate) conclusion: i32,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    #[serde(rename = "if", default)]
    pub(crate) when: Option<Condition>,
    /// The next node, or `None` for the end of the assessment.
    pub(crate) goto: Option<i32>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Comparison {
    #[serde(default)]
    pub(crate) question: i32,
    #[serde(default)]
    pub(crate) lt: Option<f64>,
    #[serde(default)]
    pub(crate) lte: Option<f64>,
    #[serde(default)]
    pub(crate) gt: Option<f64>,
    #[serde(default)]
    pub(crate) gte: Option<f64>,
    #[serde(default)]
    pub(crate) height: i32,
    #[serde(default)]
    pub(crate) weight: i32,
}

impl Comparison {
    fn holds(&self, x: f64) -> bool {
        self.lt.is_none_or(|v| x < v)
            && self.lte.is_none_or(|v| x <= v)
            && self.gt.is_none_or(|v| x > v)
            && self.gte.is_none_or(|v| x >= v)
    }
}

/// A condition over the answers given so far.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Condition {
    /// This answer was chosen.
    Checked(i32),
    /// The numeric value given to this question compares as stated.
    Number(Comparison),
    /// Body-mass index from a height (cm) and a weight (kg) question.
    Bmi(Comparison),
    /// The date given to this question lies that many days back.
    DaysAgo(Comparison),
    Any(Vec<Condition>),
    All(Vec<Condition>),
    Not(Box<Condition>),
}

/// What conditions read: the answers given, by question.
pub(crate) trait Facts {
    fn checked(&self, answer_id: i32) -> bool;
    fn value(&self, question_id: i32) -> Option<&str>;
    fn today(&self) -> chrono_free::Date;
}

impl Condition {
    pub(crate) fn holds(&self, facts: &dyn Facts) -> bool {
        let number = |q: i32| facts.value(q).and_then(|v| v.trim().parse::<f64>().ok());
        match self {
            Condition::Checked(a) => facts.checked(*a),
            Condition::Number(c) => number(c.question).is_some_and(|x| c.holds(x)),
            Condition::Bmi(c) => match (number(c.height), number(c.weight)) {
                (Some(h), Some(w)) if h > 0.0 => c.holds(w / (h / 100.0).powi(2)),
                _ => false,
            },
            Condition::DaysAgo(c) => facts
                .value(c.question)
                .and_then(chrono_free::Date::parse)
                .is_some_and(|d| c.holds((facts.today().days() - d.days()) as f64)),
            Condition::Any(cs) => cs.iter().any(|c| c.holds(facts)),
            Condition::All(cs) => cs.iter().all(|c| c.holds(facts)),
            Condition::Not(c) => !c.holds(facts),
        }
    }
}

/// Which questions feed the HRA risk model, and which conclusions are "what if" levers.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HraMap {
    pub(crate) age: i32,
    pub(crate) sex: Choice,
    pub(crate) height: i32,
    pub(crate) weight: i32,
    pub(crate) smoking: Choice,
    pub(crate) active_days: i32,
    pub(crate) alcohol_units: i32,
    pub(crate) fruit_veg: Choice,
    pub(crate) stress: Choice,
    pub(crate) blood_pressure_checked: i32,
    pub(crate) what_if: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct Choice {
    pub(crate) question: i32,
    #[serde(default)]
    pub(crate) female: Option<i32>,
    #[serde(default)]
    pub(crate) male: Option<i32>,
    #[serde(default)]
    pub(crate) former: Option<i32>,
    #[serde(default)]
    pub(crate) current: Option<i32>,
    #[serde(default)]
    pub(crate) low: Option<i32>,
    #[serde(default)]
    pub(crate) medium: Option<i32>,
    #[serde(default)]
    pub(crate) high: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    products: Vec<Product>,
    algos: Vec<Algo>,
    nodes: Vec<Node>,
    conclusions: Vec<serde_json::Map<String, serde_json::Value>>,
    hra: HraMap,
}

/// The loaded content, indexed.
pub(crate) struct Content {
    pub(crate) products: Vec<Product>,
    algos: HashMap<i32, Algo>,
    nodes: HashMap<i32, Node>,
    /// Conclusions as JSON objects: served as they are written.
    conclusions: HashMap<i32, serde_json::Map<String, serde_json::Value>>,
    /// Question id -> the node that asks it.
    question_node: HashMap<i32, i32>,
    pub(crate) hra: HraMap,
}

impl Content {
    pub(crate) fn parse(json: &str) -> Result<Self, String> {
        let raw: Raw = serde_json::from_str(json).map_err(|e| format!("content: {e}"))?;
        let mut question_node = HashMap::new();
        for node in &raw.nodes {
            for q in &node.questions {
                question_node.insert(q.question_id, node.node_id);
            }
        }
        let content = Content {
            products: raw.products,
            algos: raw.algos.into_iter().map(|a| (a.algo_id, a)).collect(),
            nodes: raw.nodes.into_iter().map(|n| (n.node_id, n)).collect(),
            conclusions: raw
                .conclusions
                .into_iter()
                .filter_map(|c| Some((c.get("assetId")?.as_i64()? as i32, c)))
                .collect(),
            question_node,
            hra: raw.hra,
        };
        content.validate()?;
        Ok(content)
    }

    /// Every reference in the content points at something that exists.
    fn validate(&self) -> Result<(), String> {
        for p in &self.products {
            self.node(p.start_node).ok_or(format!(
                "product {} starts at unknown node {}",
                p.short_code, p.start_node
            ))?;
        }
        for n in self.nodes.values() {
            self.algo(n.algo_id).ok_or(format!(
                "node {} names unknown algo {}",
                n.node_id, n.algo_id
            ))?;
            for g in &n.group {
                self.node(*g)
                    .ok_or(format!("node {} groups unknown node {g}", n.node_id))?;
            }
            for next in &n.next {
                if let Some(to) = next.goto {
                    self.node(to)
                        .ok_or(format!("node {} goes to unknown node {to}", n.node_id))?;
                }
            }
            for c in &n.conclude {
                self.conclusion(c.conclusion).ok_or(format!(
                    "node {} concludes unknown conclusion {}",
                    n.node_id, c.conclusion
                ))?;
            }
        }
        Ok(())
    }

    pub(crate) fn product(&self, short_code: &str) -> Option<&Product> {
        self.products
            .iter()
            .find(|p| p.short_code.eq_ignore_ascii_case(short_code))
    }

    pub(crate) fn algo(&self, id: i32) -> Option<&Algo> {
        self.algos.get(&id)
    }

    /// Every algorithm, by id.
    pub(crate) fn algos(&self) -> Vec<&Algo> {
        let mut list: Vec<&Algo> = self.algos.values().collect();
        list.sort_by_key(|a| a.algo_id);
        list
    }

    pub(crate) fn node(&self, id: i32) -> Option<&Node> {
        self.nodes.get(&id)
    }

    pub(crate) fn conclusion(
        &self,
        id: i32,
    ) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.conclusions.get(&id)
    }

    pub(crate) fn question(&self, id: i32) -> Option<(&Node, &Question)> {
        let node = self.node(*self.question_node.get(&id)?)?;
        let question = node.questions.iter().find(|q| q.question_id == id)?;
        Some((node, question))
    }
}

/// Calendar dates without a date library: days since 1970-01-01 (proleptic Gregorian).
pub(crate) mod chrono_free {
    use std::time::{SystemTime, UNIX_EPOCH};

    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub(crate) struct Date(i64);

    impl Date {
        /// `YYYY-MM-DD`, checked for a real day of a real month.
        pub(crate) fn parse(s: &str) -> Option<Date> {
            let mut parts = s.trim().splitn(3, '-');
            let y: i64 = parts.next()?.parse().ok()?;
            let m: i64 = parts.next()?.parse().ok()?;
            let d: i64 = parts.next()?.get(..2)?.parse().ok()?;
            if !(1..=12).contains(&m)
                || d < 1
                || d > days_in_month(y, m)
                || !(1800..=9999).contains(&y)
            {
                return None;
            }
            Some(Date(days_from_civil(y, m, d)))
        }

        pub(crate) fn today() -> Date {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Date(secs.div_euclid(86_400))
        }

        pub(crate) fn days(self) -> i64 {
            self.0
        }
    }

    fn days_in_month(y: i64, m: i64) -> i64 {
        match m {
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// Howard Hinnant's `days_from_civil`.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn dates() {
            assert_eq!(Date::parse("1970-01-01").map(Date::days), Some(0));
            assert_eq!(Date::parse("2000-03-01").map(Date::days), Some(11_017));
            assert!(Date::parse("2023-02-29").is_none());
            assert!(Date::parse("2024-02-29").is_some());
            assert!(Date::parse("2024-13-01").is_none());
            assert!(Date::parse("yesterday").is_none());
            assert!(Date::today().days() > 20_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_content_loads_and_is_consistent() {
        let c = Content::parse(BUILT_IN).unwrap();
        assert!(c.product("symptoms").is_some());
        assert!(c.product("HRA").is_some());
        let (node, q) = c.question(19063).unwrap();
        assert_eq!((node.node_id, q.answers[0].answer_id), (533, 16309));
        let mut types: Vec<&str> = c
            .nodes
            .values()
            .flat_map(|n| {
                n.questions
                    .iter()
                    .flat_map(|q| q.answers.iter().map(|a| a.control_type.as_str()))
            })
            .collect();
        types.sort_unstable();
        types.dedup();
        assert_eq!(
            types,
            [
                "Checkbox", "Date", "Hidden", "Number", "Radio", "Range", "Text", "Textarea"
            ]
        );
    }
}
