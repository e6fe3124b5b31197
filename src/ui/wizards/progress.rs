//! Apply with a progress list: each step pending, running, retrying (with
//! why and when), done (or already done) or failed with Microsoft's message
//! and what to do. The progress is saved after every event.

use std::ops::ControlFlow;

use leptos::prelude::*;

use super::frame::{Finished, Frame, SavedApply};
use crate::plan::execute::ApplyError;
use crate::plan::{self, Event, Finish, Outcome, Plan, Progress, StepRecord};
use crate::ui::error::UiError;
use crate::ui::host::Session;
use crate::ui::storage;
use crate::web::clock;
use crate::web::lock::with_plan_lock;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepState {
    Pending,
    Running,
    Retrying(String),
    Done(String),
    Failed { message: String, what_to_do: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    sentence: String,
    state: StepState,
}

pub fn rows(plan: &Plan, progress: &Progress) -> Vec<Row> {
    plan.sentences()
        .into_iter()
        .zip(&progress.steps)
        .map(|(sentence, r)| Row {
            sentence,
            state: if r.is_done() {
                done_state(r)
            } else {
                StepState::Pending
            },
        })
        .collect()
}

fn done_state(r: &StepRecord) -> StepState {
    let what = match r.outcome {
        Some(Outcome::AlreadyDone) => "Already done",
        _ => "Done",
    };
    StepState::Done(match &r.note {
        Some(n) => format!("{what} — {n}"),
        None => what.to_string(),
    })
}

/// Runs (or resumes) the saved plan, saving the progress after every event.
pub async fn apply(
    session: Session,
    mut saved: SavedApply,
    steps: RwSignal<Vec<Row>>,
) -> Result<Finished, UiError> {
    let api = session.api().await?;
    let plan = saved.plan.clone();
    let mut progress = saved.progress.clone();
    let set = move |index: usize, state: StepState| {
        steps.update(|rows| {
            if let Some(r) = rows.get_mut(index) {
                r.state = state;
            }
        })
    };
    let result = {
        let mut on_event = |event: &Event, p: &Progress| {
            match event {
                Event::Started { index, .. } => set(*index, StepState::Running),
                Event::Retrying { index, notice } => set(
                    *index,
                    // "waiting 95 s (throttled by Microsoft Graph): attempt 2 next."
                    StepState::Retrying(format!("{notice}: attempt {} next.", notice.attempt + 1)),
                ),
                Event::Sent { .. } => {}
                Event::Done { index, record } => set(*index, done_state(record)),
            }
            saved.progress = p.clone();
            storage::save_apply(&saved);
            ControlFlow::Continue(())
        };
        // One tab at a time applies a plan (Web Locks): a second tab is told
        // which one holds it instead of sending the same requests twice.
        let (api, plan_ref, progress_ref, on_event) = (&api, &plan, &mut progress, &mut on_event);
        with_plan_lock(&plan.id, move || {
            plan::apply(api, plan_ref, progress_ref, on_event)
        })
        .await?
    };
    saved.progress = progress.clone();
    storage::save_apply(&saved);
    match result {
        Ok(Finish::Completed) => {
            let done = saved.completion.finish(&plan, &progress, clock::now())?;
            storage::forget_apply();
            Ok(done)
        }
        Ok(Finish::Stopped { next_step }) => Err(UiError::Stopped(next_step)),
        Err(ApplyError::Step(f)) => {
            set(
                f.index,
                StepState::Failed {
                    message: f.error.to_string(),
                    what_to_do: f.what_to_do.clone(),
                },
            );
            Err(ApplyError::Step(f).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[component]
pub fn ProgressList(frame: Frame) -> impl IntoView {
    let Frame {
        rows,
        applying,
        apply_error,
        ..
    } = frame;
    view! {
        {move || (!rows.with(Vec::is_empty)).then(|| view! {
            <section class="panel" aria-labelledby="progress-title">
                <h2 id="progress-title">"Progress"</h2>
                <ol class="progress" id="apply-progress">
                    {move || rows.get().into_iter().map(|row| {
                        let (class, label, detail) = match row.state {
                            StepState::Pending => ("pending", "Pending".to_string(), None),
                            StepState::Running => ("running", "Running…".to_string(), None),
                            StepState::Retrying(why) => ("retrying", "Retrying".to_string(), Some(why)),
                            StepState::Done(note) => ("done", note, None),
                            StepState::Failed { message, what_to_do } => (
                                "failed",
                                "Failed".to_string(),
                                Some(format!("{message} What to do: {what_to_do}")),
                            ),
                        };
                        view! {
                            <li class=format!("step {class}")>
                                <span class="sentence">{row.sentence}</span>
                                " "
                                <span class="state">{label}</span>
                                {detail.map(|d| view! { <p class="detail">{d}</p> })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <p class="status" role="status">{move || applying.get().then_some("Applying…")}</p>
                <p class="error" role="alert" id="apply-error">{move || apply_error.get().map(|e| e.to_string())}</p>
                {move || (apply_error.with(Option::is_some) && !applying.get()).then(|| view! {
                    <button type="button" class="primary"
                        on:click=move |_| if let Some(s) = storage::saved_apply() { frame.run(s) }>
                        "Try again from the failed step"
                    </button>
                })}
            </section>
        })}
    }
}
