//! What the API shows of a traversal: its current page as a `TraversalResponse`.

use super::*;

impl Traversal {
    /// The response the API returns for the traversal's current state.
    pub(crate) fn response(
        &self,
        content: &Content,
        v3: bool,
        errors: Vec<String>,
        node_errors: &HashMap<i32, Vec<String>>,
    ) -> TraversalResponse {
        let anchor = self.current.as_ref().map_or(self.last_anchor, |p| p.anchor);
        let algo_id = content.node(anchor).map_or(0, |n| n.algo_id);
        let algo_name = content
            .algo(algo_id)
            .map(|a| a.algo_name.clone())
            .unwrap_or_default();
        let mut nodes: Vec<NodeOut> = Vec::new();
        if let Some(page) = &self.current {
            let shown = self
                .visible(content, page)
                .into_iter()
                .filter(|(_, q)| self.pre_answer(q.question_id).is_none());
            for (node, question) in shown {
                if nodes.last().is_none_or(|n| n.node_id != node.node_id) {
                    nodes.push(NodeOut {
                        asset_id: 0,
                        data: None,
                        display_text: node.display_text.clone(),
                        errors: node_errors.get(&node.node_id).cloned().unwrap_or_default(),
                        explanation: node.explanation.clone(),
                        is_table: node.is_table && !self.chat,
                        node_id: node.node_id,
                        questions: Vec::new(),
                        title: node.title.clone(),
                    });
                }
                let question_out = self.question_out(node, question, v3);
                if let Some(n) = nodes.last_mut() {
                    n.questions.push(question_out);
                }
            }
        }
        TraversalResponse {
            traversal_id: self.id.clone(),
            algo_id,
            nodes,
            assessment_type: self.assessment_type,
            algo_name,
            errors,
            previous_disabled: !self.history.iter().any(|p| !p.auto),
            next_disabled: self.current.is_none(),
            language: self.language.clone(),
        }
    }

    fn question_out(&self, node: &Node, question: &Question, v3: bool) -> QuestionOut {
        let given = self.answers.get(&question.question_id);
        let injected = match self.injected.get(&question.question_id) {
            Some((InjectedType::PrePopulate, items)) => items.as_slice(),
            _ => &[],
        };
        let answers = question
            .answers
            .iter()
            .map(|a| {
                let from_given =
                    given.and_then(|g| g.items.iter().find(|(id, _)| *id == a.answer_id));
                let from_injected = injected
                    .iter()
                    .find(|i| i.answer_id == a.answer_id && i.is_answered);
                let checked = from_given.is_some() || (given.is_none() && from_injected.is_some());
                let value = from_given
                    .and_then(|(_, v)| v.clone())
                    .or_else(|| {
                        if given.is_none() {
                            from_injected.and_then(|i| i.value.clone())
                        } else {
                            None
                        }
                    })
                    .or_else(|| {
                        (a.control_type == "Hidden")
                            .then(|| a.value.clone())
                            .flatten()
                    });
                // `Textarea` exists only from API v3; v2 clients see a plain text box.
                let control_type = if a.control_type == "Textarea" && !v3 {
                    "Text".to_owned()
                } else {
                    a.control_type.clone()
                };
                AnswerOut {
                    answer_id: a.answer_id,
                    control_checked: checked
                        && matches!(a.control_type.as_str(), "Radio" | "Checkbox"),
                    control_type,
                    control_value: value,
                    data: a.data.clone().unwrap_or_else(|| serde_json::json!({})),
                    display_text: a.display_text.clone(),
                    explanation: a.explanation.clone(),
                    node_id: node.node_id,
                    question_id: question.question_id,
                    min: a.min,
                    max: a.max,
                }
            })
            .collect();
        QuestionOut {
            answers,
            data: serde_json::json!({}),
            display_text: question.display_text.clone(),
            explanation: question.explanation.clone(),
            node_id: node.node_id,
            question_id: question.question_id,
            title: question.title.clone(),
        }
    }
}
