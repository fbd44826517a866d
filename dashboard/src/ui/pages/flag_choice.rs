//! The flag-and-environment choice shared by the canary and experiment screens.

use edgeflag_evaluator::model::Flag;
use leptos::prelude::*;

use crate::ui::components::CollectAny;
use crate::ui::state::AppState;

/// The flags a screen applies to, the chosen one (the first until the admin picks), and the
/// declared environments with the chosen one. The chosen flag is the app state's (the URL's).
#[derive(Clone, Copy)]
pub struct FlagChoice {
    pub flags: Memo<Vec<String>>,
    pub envs: Memo<Vec<String>>,
    pub chosen: RwSignal<String>,
    pub flag: Memo<String>,
    pub env: RwSignal<String>,
}

impl FlagChoice {
    /// Over the draft's flags, or with `published` over the server's newest version's.
    pub fn new(state: AppState, chosen: RwSignal<String>, applies: fn(&Flag) -> bool, published: bool) -> Self {
        let with_model = move |f: &dyn Fn(&edgeflag_evaluator::FlagFile) -> Vec<String>| {
            if published {
                state.published_parsed.with(|p| p.model.as_ref().map(f)).unwrap_or_default()
            } else {
                state.with_model(f).unwrap_or_default()
            }
        };
        let flags = Memo::new(move |_| with_model(&|m| m.flags.iter().filter(|f| applies(f)).map(|f| f.key.clone()).collect()));
        let envs = Memo::new(move |_| with_model(&|m| m.environments.clone()));
        let flag = Memo::new(move |_| {
            let c = chosen.get();
            if c.is_empty() { flags.with(|l| l.first().cloned().unwrap_or_default()) } else { c }
        });
        FlagChoice { flags, envs, chosen, flag, env: RwSignal::new(String::new()) }
    }
}

/// What a screen says of a chosen flag (from a link) that `place` does not have.
pub fn missing_flag(key: &str, place: &str) -> String {
    format!("No flag \"{key}\" {place}: it may have been deleted or renamed, or the link is wrong.")
}

/// The two selects of a [`FlagChoice`]; `id` prefixes the test ids (`<id>-flag`, `<id>-env`),
/// `all_label` names the "no environment" option. A chosen flag the list does not have is
/// listed and said missing (once the file is loaded).
#[component]
pub fn FlagChoiceSelects(choice: FlagChoice, id: &'static str, all_label: &'static str) -> impl IntoView {
    let FlagChoice { flags, envs, chosen, flag, env } = choice;
    let state = expect_context::<AppState>();
    // A chosen key the list does not have (a link to a missing flag).
    let missing = move || chosen.with(|c| (!c.is_empty() && !flags.with(|l| l.contains(c))).then(|| c.clone()));
    view! {
        <label>"Flag "
            <select data-testid=format!("{id}-flag") on:change=move |ev| chosen.set(event_target_value(&ev))>
                // `prop:selected`: the choice also changes from the URL (back button) while shown.
                // A missing choice is listed (last), not replaced by the first flag in the select.
                {move || {
                    let mut keys = flags.get();
                    keys.extend(missing());
                    keys.into_iter().map(|k| {
                        let (value, text) = (k.clone(), k.clone());
                        view! { <option value=value prop:selected=move || flag.with(|f| *f == k)>{text}</option> }
                    }).collect_any()
                }}
            </select>
        </label>
        <label>"Environment "
            <select data-testid=format!("{id}-env") on:change=move |ev| env.set(event_target_value(&ev))>
                <option value="">{all_label}</option>
                {move || envs.get().into_iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_any()}
            </select>
        </label>
        {move || missing().filter(|_| state.ready.get()).map(|k| view! {
            <p class="notice error" data-testid="missing-flag">
                {missing_flag(&k, if id == "canary" { "with a canary on the server" } else { "with an experiment in the draft" })}
            </p>
        }.into_any())}
    }
}
