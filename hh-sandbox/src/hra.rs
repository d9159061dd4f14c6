//! The Health Risk Assessment reports: risks, wellness scores, snapshots and comparisons,
//! computed from a completed HRA traversal's answers and "what if" conclusions.
//!
//! The model is illustrative, not clinical: simple relative-risk multipliers over an
//! age-dependent baseline, so that answers and what-ifs move the numbers in the directions a
//! user expects and tests can rely on.

use serde_json::{Value, json};

use crate::content::{Content, HraMap, chrono_free::Date};
use crate::engine::Traversal;

/// The factors the model reads, after any what-ifs are applied.
#[derive(Debug, Clone)]
pub(crate) struct Factors {
    age: f64,
    female: bool,
    bmi: f64,
    smoker: bool,
    former_smoker: bool,
    active_days: f64,
    alcohol_units: f64,
    fruit_veg: u8,
    stress: u8,
    bp_checked_recently: bool,
}

impl Factors {
    pub(crate) fn read(map: &HraMap, t: &Traversal) -> Factors {
        let num = |q: i32, default: f64| {
            t.value(q)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(default)
        };
        let chosen = |a: Option<i32>| a.is_some_and(|a| t.checked(a));
        let height = num(map.height, 170.0).max(1.0);
        let weight = num(map.weight, 70.0);
        Factors {
            age: num(map.age, 40.0),
            female: chosen(map.sex.female),
            bmi: weight / (height / 100.0).powi(2),
            smoker: chosen(map.smoking.current),
            former_smoker: chosen(map.smoking.former),
            active_days: num(map.active_days, 0.0),
            alcohol_units: num(map.alcohol_units, 0.0),
            fruit_veg: if chosen(map.fruit_veg.low) {
                0
            } else if chosen(map.fruit_veg.medium) {
                1
            } else {
                2
            },
            stress: if chosen(map.stress.high) {
                2
            } else if chosen(map.stress.medium) {
                1
            } else {
                0
            },
            bp_checked_recently: t
                .value(map.blood_pressure_checked)
                .and_then(Date::parse)
                .is_some_and(|d| Date::today().days() - d.days() <= 365),
        }
    }

    /// The same person having followed the advice of `lever`.
    fn apply(&mut self, lever: &str) {
        match lever {
            "stopSmoking" if self.smoker => {
                self.smoker = false;
                self.former_smoker = true;
            }
            "healthyWeight" => self.bmi = self.bmi.min(24.0),
            "beActive" => self.active_days = self.active_days.max(5.0),
            "drinkLess" => self.alcohol_units = self.alcohol_units.min(14.0),
            "eatWell" => self.fruit_veg = 2,
            "lessStress" => self.stress = 0,
            "checkBloodPressure" => self.bp_checked_recently = true,
            _ => {}
        }
    }

    fn best(&self) -> Factors {
        let mut best = self.clone();
        for lever in [
            "stopSmoking",
            "healthyWeight",
            "beActive",
            "drinkLess",
            "eatWell",
            "lessStress",
            "checkBloodPressure",
        ] {
            best.apply(lever);
        }
        best
    }

    /// Years added to (or taken from) the real age.
    fn health_age_offset(&self) -> f64 {
        let mut years = 0.0;
        years += if self.smoker {
            6.0
        } else if self.former_smoker {
            2.0
        } else {
            0.0
        };
        years += if self.bmi >= 30.0 {
            4.0
        } else if self.bmi >= 25.0 {
            2.0
        } else {
            0.0
        };
        years += if self.active_days < 3.0 {
            3.0
        } else if self.active_days >= 5.0 {
            -1.0
        } else {
            0.0
        };
        years += if self.alcohol_units > 14.0 { 2.0 } else { 0.0 };
        years += [1.0, 0.0, -1.0][self.fruit_veg as usize];
        years += [0.0, 0.5, 1.5][self.stress as usize];
        years
    }

    fn multiplier(&self, risk: &str) -> f64 {
        let smoke = if self.smoker {
            1.0
        } else if self.former_smoker {
            0.3
        } else {
            0.0
        };
        let obese = ((self.bmi - 25.0) / 5.0).max(0.0);
        let inactive = ((3.0 - self.active_days) / 3.0).max(0.0);
        let drink = ((self.alcohol_units - 14.0) / 14.0).max(0.0);
        match risk {
            "Heart disease" => {
                1.0 + 1.2 * smoke + 0.4 * obese + 0.5 * inactive + 0.2 * self.stress as f64
            }
            "Stroke" => 1.0 + 0.9 * smoke + 0.3 * obese + 0.3 * inactive + 0.3 * drink,
            "Diabetes" => 1.0 + 1.5 * obese + 0.6 * inactive + 0.2 * smoke,
            "Lung cancer" => 1.0 + 14.0 * smoke,
            "Bowel cancer" => 1.0 + 0.3 * obese + 0.3 * drink + 0.2 * (2 - self.fruit_veg) as f64,
            "Breast cancer" => 1.0 + 0.2 * obese + 0.4 * drink,
            _ => 1.0 + 0.8 * smoke + 0.3 * obese + 0.3 * inactive + 0.2 * drink,
        }
    }

    fn life_expectancy(&self) -> f64 {
        if self.female { 83.0 } else { 79.0 }
    }
}

const RISKS: [&str; 7] = [
    "Breast cancer",
    "Bowel cancer",
    "Death",
    "Diabetes",
    "Heart disease",
    "Lung cancer",
    "Stroke",
];

/// Percent risk by `at_age` for someone aged `age`: an age-driven baseline times the factors.
fn risk_percent(name: &str, f: &Factors, at_age: f64) -> f64 {
    let years = (at_age - f.age).max(0.0);
    let base = match name {
        "Breast cancer" if f.female => 0.12,
        "Breast cancer" => 0.001,
        "Bowel cancer" => 0.06,
        "Death" => 0.55,
        "Diabetes" => 0.12,
        "Heart disease" => {
            if f.female {
                0.18
            } else {
                0.26
            }
        }
        "Lung cancer" => 0.03,
        _ => 0.14,
    };
    // The share of the lifetime baseline that falls between now and `at_age`.
    let share = 1.0 - (-years / 25.0).exp();
    let p = 100.0 * (1.0 - (1.0 - base * share).powf(f.multiplier(name)));
    (p.clamp(0.0, 99.9) * 100.0).round() / 100.0
}

/// The what-if levers named by `conclusions` that this traversal can pull.
fn levers<'a>(map: &'a HraMap, conclusions: &[i32]) -> Vec<&'a str> {
    conclusions
        .iter()
        .filter_map(|c| map.what_if.get(&c.to_string()).map(String::as_str))
        .collect()
}

/// The conclusions reached that are what-if levers.
fn checkable(map: &HraMap, t: &Traversal) -> Vec<i32> {
    t.conclusions()
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| map.what_if.contains_key(&c.to_string()))
        .collect()
}

pub(crate) fn risks(content: &Content, t: &Traversal, ages: &[i32], conclusions: &[i32]) -> Value {
    let map = &content.hra;
    let mut f = Factors::read(map, t);
    for lever in levers(map, conclusions) {
        f.apply(lever);
    }
    let best = f.best();
    let health_age = (f.age + f.health_age_offset()).round();
    let minimum_health_age = (f.age + best.health_age_offset()).round();
    let expectancy = f.life_expectancy();
    let mut risks = Vec::new();
    for name in RISKS {
        for age in ages {
            risks.push(json!({
                "name": name,
                "time": age,
                "current": risk_percent(name, &f, *age as f64),
                "minimum": risk_percent(name, &best, *age as f64),
            }));
        }
    }
    json!({
        "age": f.age.round() as i64,
        "ageAtDeath": (expectancy - (health_age - f.age)).round() as i64,
        "minimumAgeAtDeath": (expectancy - (minimum_health_age - f.age)).round() as i64,
        "healthAge": health_age as i64,
        "minimumHealthAge": minimum_health_age as i64,
        "averageLifeExpectancy": expectancy as i64,
        "maximumLifeExpectancy": (expectancy + 8.0) as i64,
        "gender": if f.female { "F" } else { "M" },
        "risks": risks,
        "checkableConclusions": checkable(map, t),
    })
}

pub(crate) fn wellness(content: &Content, t: &Traversal, conclusions: &[i32]) -> Value {
    let map = &content.hra;
    let mut f = Factors::read(map, t);
    for lever in levers(map, conclusions) {
        f.apply(lever);
    }
    let clamp = |x: f64| (x.clamp(0.0, 100.0) * 10.0).round() / 10.0;
    let diet = clamp(
        [25.0, 60.0, 90.0][f.fruit_veg as usize] - if f.alcohol_units > 14.0 { 15.0 } else { 0.0 },
    );
    let stress = clamp([90.0, 60.0, 25.0][f.stress as usize]);
    let habits = clamp(
        100.0
            - if f.smoker {
                60.0
            } else if f.former_smoker {
                10.0
            } else {
                0.0
            }
            - (f.alcohol_units - 14.0).max(0.0) * 2.0,
    );
    let fitness = clamp(f.active_days / 5.0 * 80.0 + if f.bmi < 25.0 { 20.0 } else { 0.0 });
    let prevention = clamp(if f.bp_checked_recently { 90.0 } else { 40.0 });
    let screening = clamp(
        if f.bp_checked_recently { 80.0 } else { 30.0 } + if f.age >= 50.0 { 0.0 } else { 10.0 },
    );
    let overall = clamp((diet + stress + habits + fitness + prevention + screening) / 6.0);
    json!({
        "scores": [
            {"name": "Diet", "score": diet},
            {"name": "Stress", "score": stress},
            {"name": "Habits", "score": habits},
            {"name": "Fitness", "score": fitness},
            {"name": "Prevention", "score": prevention},
            {"name": "Screening", "score": screening},
            {"name": "Overall Wellbeing", "score": overall},
        ],
        "checkableConclusions": checkable(map, t),
    })
}

/// One HRA result as kept for a member, for `/previous` and `/compare`.
pub(crate) fn snapshot(
    content: &Content,
    t: &Traversal,
    id: usize,
    risk_at_age: i32,
    conclusions: Vec<Value>,
) -> Value {
    let risk = risks(content, t, &[risk_at_age], &[]);
    let wellness = wellness(content, t, &[]);
    json!({
        "id": id,
        "traversalId": t.id,
        "memberRef": t.member,
        "clientId": t.tenant,
        "riskOutput": {"age": risk["age"], "healthAge": risk["healthAge"], "risks": risk["risks"]},
        "wellnessOutput": {"scores": wellness["scores"]},
        "myNumbers": conclusions,
        "createdDate": t.created,
    })
}

/// `current` against `previous`: which way each figure moved.
pub(crate) fn compare(current: Value, previous: Value) -> Value {
    let direction = |now: f64, before: f64, lower_is_better: bool| {
        let better = if lower_is_better {
            now < before
        } else {
            now > before
        };
        if (now - before).abs() < f64::EPSILON {
            "same"
        } else if better {
            "better"
        } else {
            "worse"
        }
    };
    let mut risk = serde_json::Map::new();
    if let (Some(now), Some(before)) = (
        current["riskOutput"]["risks"].as_array(),
        previous["riskOutput"]["risks"].as_array(),
    ) {
        for r in now {
            if let Some(b) = before.iter().find(|b| b["name"] == r["name"]) {
                let d = direction(
                    r["current"].as_f64().unwrap_or(0.0),
                    b["current"].as_f64().unwrap_or(0.0),
                    true,
                );
                risk.insert(r["name"].as_str().unwrap_or_default().to_owned(), json!(d));
            }
        }
    }
    let mut wellness = serde_json::Map::new();
    if let (Some(now), Some(before)) = (
        current["wellnessOutput"]["scores"].as_array(),
        previous["wellnessOutput"]["scores"].as_array(),
    ) {
        for s in now {
            if let Some(b) = before.iter().find(|b| b["name"] == s["name"]) {
                let d = direction(
                    s["score"].as_f64().unwrap_or(0.0),
                    b["score"].as_f64().unwrap_or(0.0),
                    false,
                );
                wellness.insert(s["name"].as_str().unwrap_or_default().to_owned(), json!(d));
            }
        }
    }
    let health_age = direction(
        current["riskOutput"]["healthAge"].as_f64().unwrap_or(0.0),
        previous["riskOutput"]["healthAge"].as_f64().unwrap_or(0.0),
        true,
    );
    json!({
        "summary": {"risk": risk, "wellness": wellness, "myNumbers": {"Health Age": health_age}},
        "currentSnapshot": current,
        "previousSnapshot": previous,
    })
}
