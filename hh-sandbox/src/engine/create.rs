//! Starting a traversal: the product, language and start a request names, and the injected
//! history it brings, each checked before the first page is shown.

use super::*;
use crate::content::Product;

/// Why a traversal could not be created.
pub(crate) enum CreateError {
    UnknownProduct(String),
    UnknownLanguage(String),
    UnknownStart(String),
    BadInjection(String),
}

/// Injected history by question id, with the type of the first item for each.
type Injected = HashMap<i32, (InjectedType, Vec<InjectedHistory>)>;

impl Traversal {
    /// A new traversal of the product `short_code`, at its first page not answered by
    /// injected `PreAnswer` history. The request is checked in this order: product,
    /// language, start, injected history.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create(
        content: &Content,
        tenant: &str,
        chat: bool,
        short_code: &str,
        language: Option<&str>,
        start: (Option<i32>, Option<i32>),
        member: Option<String>,
        injected: Vec<InjectedHistory>,
    ) -> Result<Self, CreateError> {
        let product = content
            .product(short_code)
            .ok_or_else(|| CreateError::UnknownProduct(short_code.to_owned()))?;
        let language = language_of(product, language)?;
        let anchor = start_node(content, product, start)?;
        let by_question = injected_by_question(content, injected)?;
        let mut traversal = Traversal {
            id: uuid::Uuid::new_v4().to_string(),
            tenant: tenant.to_owned(),
            short_code: product.short_code.clone(),
            assessment_type: product.assessment_type,
            chat,
            language,
            member,
            created: now_rfc3339(),
            history: Vec::new(),
            current: Some(Page {
                anchor,
                step: chat.then_some(0),
                auto: false,
            }),
            last_anchor: anchor,
            answers: BTreeMap::new(),
            injected: by_question,
            reached: Vec::new(),
            counter: 0,
        };
        traversal.skip_pre_answered(content);
        Ok(traversal)
    }
}

/// The language asked for, upper-cased, if the product has it; `DEFAULT` when none is.
fn language_of(product: &Product, language: Option<&str>) -> Result<String, CreateError> {
    Ok(match language.filter(|l| !l.trim().is_empty()) {
        None => "DEFAULT".to_owned(),
        Some(l) if l.eq_ignore_ascii_case("default") => "DEFAULT".to_owned(),
        Some(l) if product.languages.iter().any(|p| p.eq_ignore_ascii_case(l)) => l.to_uppercase(),
        Some(l) => return Err(CreateError::UnknownLanguage(l.to_owned())),
    })
}

/// The node to start at: the one named, else the entry of the algorithm named, else the
/// product's start.
fn start_node(
    content: &Content,
    product: &Product,
    start: (Option<i32>, Option<i32>),
) -> Result<i32, CreateError> {
    Ok(match start {
        (_, Some(node)) => content
            .node(node)
            .map(|n| n.node_id)
            .ok_or_else(|| CreateError::UnknownStart(format!("node {node}")))?,
        (Some(algo), None) => {
            content
                .algo(algo)
                .ok_or_else(|| CreateError::UnknownStart(format!("algo {algo}")))?;
            // The algorithm's entry: the first node of it that the product reaches.
            reachable(content, product.start_node)
                .into_iter()
                .find(|n| content.node(*n).is_some_and(|n| n.algo_id == algo))
                .ok_or_else(|| CreateError::UnknownStart(format!("algo {algo}")))?
        }
        (None, None) => product.start_node,
    })
}

/// The injected history grouped by question, each item checked against the content: its
/// question must exist and have its answer.
fn injected_by_question(
    content: &Content,
    injected: Vec<InjectedHistory>,
) -> Result<Injected, CreateError> {
    let mut by_question: Injected = HashMap::new();
    for item in injected {
        let Some((_, question)) = content.question(item.asset_id) else {
            return Err(CreateError::BadInjection(format!(
                "question {} does not exist",
                item.asset_id
            )));
        };
        if !question
            .answers
            .iter()
            .any(|a| a.answer_id == item.answer_id)
        {
            return Err(CreateError::BadInjection(format!(
                "answer {} is not an answer of question {}",
                item.answer_id, item.asset_id
            )));
        }
        let entry = by_question
            .entry(item.asset_id)
            .or_insert((item.injected_history_type, Vec::new()));
        entry.1.push(item);
    }
    Ok(by_question)
}

/// Every node reachable from `start`, in breadth-first order.
fn reachable(content: &Content, start: i32) -> Vec<i32> {
    let mut seen = vec![start];
    let mut i = 0;
    while i < seen.len() {
        if let Some(node) = content.node(seen[i]) {
            for n in node
                .group
                .iter()
                .copied()
                .chain(node.next.iter().filter_map(|n| n.goto))
            {
                if !seen.contains(&n) {
                    seen.push(n);
                }
            }
        }
        i += 1;
    }
    seen
}
