//! The traversal engine: where a traversal is, what it shows, how answers are checked and
//! where they lead. One `Traversal` per traversal id, each behind its own lock. How answers are
//! checked is in `validate`; what the API shows of a traversal is in `render`; how one starts
//! is in `create`.

use std::collections::{BTreeMap, HashMap};

use crate::content::{Answer, Content, Facts, Node, Question, chrono_free::Date};

mod create;
mod render;
mod validate;

pub(crate) use create::CreateError;

use crate::wire::{
    AnswerOut, InjectedHistory, InjectedType, NodeOut, QuestionOut, RespondItem, TraversalResponse,
};
use validate::{unknown_items, value_error};

/// A page: the node it starts at, and for chat traversals which of its questions is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub(crate) anchor: i32,
    /// Chat only: the index into the anchor's question sequence (node, then grouped nodes).
    pub(crate) step: Option<usize>,
    /// Answered from injected history without being shown.
    pub(crate) auto: bool,
}

/// Answer ids with their values (for Number, Date, Text...).
type AnswerItems = Vec<(i32, Option<String>)>;

#[derive(Debug, Clone)]
pub(crate) struct Given {
    pub(crate) node_id: i32,
    pub(crate) items: AnswerItems,
    /// Index in `history` of the page that answered it.
    pub(crate) page: usize,
    pub(crate) counter: u32,
    pub(crate) at: String,
}

/// A permanent answer to record for the member.
pub(crate) struct PermanentAnswer {
    pub(crate) question_id: i32,
    pub(crate) answer_id: i32,
    pub(crate) value: Option<String>,
}

/// What `respond` did.
pub(crate) enum Outcome {
    Moved {
        permanent: Vec<PermanentAnswer>,
    },
    Invalid {
        errors: Vec<String>,
        node_errors: HashMap<i32, Vec<String>>,
    },
}

pub(crate) struct Traversal {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) short_code: String,
    pub(crate) assessment_type: i32,
    pub(crate) chat: bool,
    pub(crate) language: String,
    pub(crate) member: Option<String>,
    pub(crate) created: String,
    pub(crate) history: Vec<Page>,
    /// `None` once the assessment is complete.
    pub(crate) current: Option<Page>,
    /// Where the traversal ended, for `algoId` after completion.
    last_anchor: i32,
    pub(crate) answers: BTreeMap<i32, Given>,
    injected: HashMap<i32, (InjectedType, Vec<InjectedHistory>)>,
    /// Conclusions reached, with the history index of the page that reached them and its node.
    reached: Vec<(usize, i32, i32)>,
    counter: u32,
}

struct AnswerFacts<'a> {
    answers: &'a BTreeMap<i32, Given>,
}

impl Facts for AnswerFacts<'_> {
    fn checked(&self, answer_id: i32) -> bool {
        self.answers
            .values()
            .any(|g| g.items.iter().any(|(a, _)| *a == answer_id))
    }

    fn value(&self, question_id: i32) -> Option<&str> {
        value_of(self.answers, question_id)
    }

    fn today(&self) -> Date {
        Date::today()
    }
}

fn value_of(answers: &BTreeMap<i32, Given>, question_id: i32) -> Option<&str> {
    answers
        .get(&question_id)?
        .items
        .iter()
        .find_map(|(_, v)| v.as_deref())
}

pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Node and grouped nodes, in page order.
fn page_nodes(content: &Content, anchor: i32) -> Vec<&Node> {
    let Some(node) = content.node(anchor) else {
        return Vec::new();
    };
    let mut nodes = vec![node];
    nodes.extend(node.group.iter().filter_map(|g| content.node(*g)));
    nodes
}

/// Chat asks one question at a time: the questions of a page, in order.
fn chat_steps(content: &Content, anchor: i32) -> Vec<(&Node, &Question)> {
    page_nodes(content, anchor)
        .into_iter()
        .flat_map(|n| n.questions.iter().map(move |q| (n, q)))
        .collect()
}

/// The answered items of a question's injected `PreAnswer` history, as if the client had
/// sent them.
fn stand_ins(node: &Node, question: &Question, injected: &[InjectedHistory]) -> Vec<RespondItem> {
    injected
        .iter()
        .filter(|i| i.is_answered)
        .map(|i| RespondItem {
            node_id: node.node_id,
            question_id: question.question_id,
            answer_id: i.answer_id,
            value: i.value.clone(),
        })
        .collect()
}

/// The items that pick one of the question's visible answers, each with that answer.
fn shown_answers<'a>(
    question: &'a Question,
    mine: &[&'a RespondItem],
) -> Vec<(&'a RespondItem, &'a Answer)> {
    mine.iter()
        .filter_map(|i| {
            question
                .answers
                .iter()
                .find(|a| a.answer_id == i.answer_id && a.control_type != "Hidden")
                .map(|a| (*i, a))
        })
        .collect()
}

/// What is wrong with the choice of answers: more than one radio, or a radio (a single
/// option such as "None of these") together with other options.
fn choice_problems(shown: &[(&RespondItem, &Answer)], label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let radios = shown
        .iter()
        .filter(|(_, a)| a.control_type == "Radio")
        .count();
    if radios > 1 {
        problems.push(format!("Choose only one answer to: {label}"));
    }
    if radios == 1 && shown.iter().any(|(_, a)| a.control_type != "Radio") {
        problems.push(format!(
            "Choose one or more options, or the single option, not both: {label}"
        ));
    }
    problems
}

impl Traversal {
    pub(crate) fn is_complete(&self) -> bool {
        self.current.is_none()
    }

    /// The questions the current page shows, with the node each belongs to.
    fn visible<'c>(&self, content: &'c Content, page: &Page) -> Vec<(&'c Node, &'c Question)> {
        let steps = chat_steps(content, page.anchor);
        match page.step {
            Some(i) => steps.into_iter().nth(i).into_iter().collect(),
            None => steps,
        }
    }

    /// The injected `PreAnswer` history of a question: answered silently, never shown.
    fn pre_answer(&self, question_id: i32) -> Option<&[InjectedHistory]> {
        match self.injected.get(&question_id) {
            Some((InjectedType::PreAnswer, items)) => Some(items),
            _ => None,
        }
    }

    /// Answers the pages that injected `PreAnswer` history covers entirely, without showing them.
    fn skip_pre_answered(&mut self, content: &Content) {
        for _ in 0..1_000 {
            let Some(page) = self.current.clone() else {
                return;
            };
            let visible = self.visible(content, &page);
            let covered = !visible.is_empty()
                && visible.iter().all(|(_, q)| {
                    self.pre_answer(q.question_id).is_some()
                        || q.answers.iter().all(|a| a.control_type == "Hidden")
                });
            if !covered {
                return;
            }
            if let Some(p) = self.current.as_mut() {
                p.auto = true;
            }
            // `respond` fills pre-answered questions from the injected history itself.
            if let Outcome::Invalid { .. } = self.respond(content, &[]) {
                // Injected history that fails validation is shown to the user instead.
                if let Some(p) = self.current.as_mut() {
                    p.auto = false;
                }
                return;
            }
        }
    }

    /// Checks the answers against the current page and, if they are valid, moves on.
    pub(crate) fn respond(&mut self, content: &Content, items: &[RespondItem]) -> Outcome {
        let Some(page) = self.current.clone() else {
            return Outcome::Invalid {
                errors: vec!["This traversal is complete; there is nothing left to answer".into()],
                node_errors: HashMap::new(),
            };
        };
        let visible = self.visible(content, &page);
        let mut errors = unknown_items(&visible, items);
        let mut node_errors: HashMap<i32, Vec<String>> = HashMap::new();
        let mut accepted: Vec<(i32, i32, AnswerItems)> = Vec::new();
        for (node, question) in &visible {
            let (given, problems) = self.check_question(node, question, items);
            if !problems.is_empty() {
                node_errors
                    .entry(node.node_id)
                    .or_default()
                    .extend(problems);
            }
            accepted.push((node.node_id, question.question_id, given));
        }
        for list in node_errors.values() {
            errors.extend(list.iter().cloned());
        }
        if !errors.is_empty() {
            return Outcome::Invalid {
                errors,
                node_errors,
            };
        }
        self.record(content, &page, accepted)
    }

    /// The answers to one visible question (the client's, or its `PreAnswer` history's) as
    /// they will be kept, and what is wrong with them.
    fn check_question(
        &self,
        node: &Node,
        question: &Question,
        items: &[RespondItem],
    ) -> (AnswerItems, Vec<String>) {
        let mut mine: Vec<&RespondItem> = items
            .iter()
            .filter(|i| i.question_id == question.question_id)
            .collect();
        // A question answered by `PreAnswer` history is not shown; its injected answers stand
        // in for the client's.
        let pre: Vec<RespondItem>;
        if mine.is_empty()
            && let Some(injected) = self.pre_answer(question.question_id)
        {
            pre = stand_ins(node, question, injected);
            mine = pre.iter().collect();
        }
        let label = question
            .display_text
            .clone()
            .unwrap_or_else(|| format!("question {}", question.question_id));
        // Hidden answers carry their fixed value whether or not the client sends them.
        let mut given: AnswerItems = question
            .answers
            .iter()
            .filter(|a| a.control_type == "Hidden")
            .map(|a| (a.answer_id, a.value.clone()))
            .collect();
        let shown = shown_answers(question, &mine);
        let needs_answer = question.answers.iter().any(|a| a.control_type != "Hidden");
        if shown.is_empty() {
            let mut problems = Vec::new();
            if needs_answer && !question.optional {
                problems.push(format!("Please answer: {label}"));
            }
            return (given, problems);
        }
        let mut problems = choice_problems(&shown, &label);
        for (item, answer) in &shown {
            let value = item.value.as_deref().map(str::trim).unwrap_or("");
            problems.extend(value_error(answer, value, &label, question.optional));
            let keep = matches!(
                answer.control_type.as_str(),
                "Number" | "Range" | "Date" | "Text" | "Textarea"
            )
            .then(|| value.to_owned());
            given.push((answer.answer_id, keep));
        }
        (given, problems)
    }

    /// Keeps a valid page's answers and moves on to the next page.
    fn record(
        &mut self,
        content: &Content,
        page: &Page,
        accepted: Vec<(i32, i32, AnswerItems)>,
    ) -> Outcome {
        let index = self.history.len();
        let at = now_rfc3339();
        let mut permanent = Vec::new();
        for (node_id, question_id, items) in accepted {
            self.counter += 1;
            if content
                .question(question_id)
                .is_some_and(|(_, q)| q.permanent)
            {
                permanent.extend(items.iter().map(|(a, v)| PermanentAnswer {
                    question_id,
                    answer_id: *a,
                    value: v.clone(),
                }));
            }
            self.answers.insert(
                question_id,
                Given {
                    node_id,
                    items,
                    page: index,
                    counter: self.counter,
                    at: at.clone(),
                },
            );
        }
        self.history.push(page.clone());
        let steps = chat_steps(content, page.anchor).len();
        self.current = match page.step {
            Some(i) if i + 1 < steps => Some(Page {
                anchor: page.anchor,
                step: Some(i + 1),
                auto: false,
            }),
            _ => self.leave(content, page.anchor, index),
        };
        if let Some(p) = &self.current {
            self.last_anchor = p.anchor;
        }
        self.skip_pre_answered(content);
        Outcome::Moved { permanent }
    }

    /// Applies the node's conclusions and picks the next page.
    fn leave(&mut self, content: &Content, anchor: i32, index: usize) -> Option<Page> {
        let node = content.node(anchor)?;
        let facts = AnswerFacts {
            answers: &self.answers,
        };
        for rule in &node.conclude {
            if rule.when.as_ref().is_none_or(|c| c.holds(&facts)) {
                self.reached.push((index, rule.conclusion, anchor));
            }
        }
        let next = node
            .next
            .iter()
            .find(|n| n.when.as_ref().is_none_or(|c| c.holds(&facts)))
            .and_then(|n| n.goto)?;
        Some(Page {
            anchor: next,
            step: self.chat.then_some(0),
            auto: false,
        })
    }

    /// Goes back to history entry `index`, forgetting everything answered from there on.
    fn rewind(&mut self, index: usize) {
        self.history.truncate(index + 1);
        let page = self.history.pop();
        // The page returned to shows its answers again; everything after it is forgotten.
        self.answers.retain(|_, g| g.page <= index);
        self.reached.retain(|(i, _, _)| *i < index);
        if let Some(mut page) = page {
            page.auto = false;
            self.last_anchor = page.anchor;
            self.current = Some(page);
        }
    }

    /// One page back (over pages answered from injected history). `false` if there is none.
    pub(crate) fn previous(&mut self) -> bool {
        let Some(index) = self.history.iter().rposition(|p| !p.auto) else {
            return false;
        };
        self.rewind(index);
        true
    }

    /// Back to the page showing `node_id` (and, for chat, `question_id`). `false` if it was
    /// never shown.
    pub(crate) fn revisit(
        &mut self,
        content: &Content,
        node_id: i32,
        question_id: Option<i32>,
    ) -> bool {
        let found = self.history.iter().rposition(|p| {
            let visible = self.visible(content, p);
            visible.iter().any(|(n, q)| {
                n.node_id == node_id && question_id.is_none_or(|id| id == q.question_id)
            })
        });
        match found {
            Some(index) => {
                self.rewind(index);
                true
            }
            None => false,
        }
    }

    /// The conclusions reached, in order, each once, with the node that reached it.
    pub(crate) fn conclusions(&self) -> Vec<(i32, i32)> {
        let mut seen = Vec::new();
        for (_, id, node) in &self.reached {
            if !seen.iter().any(|(c, _)| c == id) {
                seen.push((*id, *node));
            }
        }
        seen
    }

    /// The numeric or text value given to a question, if any.
    pub(crate) fn value(&self, question_id: i32) -> Option<&str> {
        value_of(&self.answers, question_id)
    }

    pub(crate) fn checked(&self, answer_id: i32) -> bool {
        AnswerFacts {
            answers: &self.answers,
        }
        .checked(answer_id)
    }

    /// Answered questions in the order they were answered, for `/questions`, `/summary`,
    /// `/history-lines` and `/track-file`.
    pub(crate) fn answered(&self) -> Vec<(i32, &Given)> {
        let mut list: Vec<(i32, &Given)> = self.answers.iter().map(|(q, g)| (*q, g)).collect();
        list.sort_by_key(|(_, g)| g.counter);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::BUILT_IN;

    fn item(node: i32, q: i32, a: i32, v: Option<&str>) -> RespondItem {
        RespondItem {
            node_id: node,
            question_id: q,
            answer_id: a,
            value: v.map(str::to_owned),
        }
    }

    #[test]
    fn chest_pain_red_flag_goes_to_a_and_e() {
        let c = Content::parse(BUILT_IN).unwrap();
        let mut t = Traversal::create(&c, "t", false, "SYMPTOMS", None, (None, None), None, vec![])
            .ok()
            .unwrap();
        assert!(matches!(
            t.respond(&c, &[item(1, 13045, 7527, None)]),
            Outcome::Moved { .. }
        ));
        let bad = t.respond(
            &c,
            &[
                item(533, 19063, 16309, Some("130")),
                item(534, 19064, 16310, None),
            ],
        );
        assert!(
            matches!(bad, Outcome::Invalid { ref errors, .. } if errors[0].contains("between 0 and 120"))
        );
        assert!(matches!(
            t.respond(
                &c,
                &[
                    item(533, 19063, 16309, Some("38")),
                    item(534, 19064, 16310, None)
                ]
            ),
            Outcome::Moved { .. }
        ));
        assert!(matches!(
            t.respond(&c, &[item(2, 20000, 20001, None)]),
            Outcome::Moved { .. }
        ));
        assert!(matches!(
            t.respond(&c, &[item(10, 21000, 21001, None)]),
            Outcome::Moved { .. }
        ));
        assert!(t.is_complete());
        assert_eq!(
            t.conclusions().iter().map(|c| c.0).collect::<Vec<_>>(),
            [50014, 60001]
        );
        // Back one page: the answers from there on are forgotten.
        assert!(t.previous());
        assert!(!t.is_complete());
        assert!(t.conclusions().is_empty());
    }
}
