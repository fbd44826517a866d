//! The flag-and-environment choice shared by the canary and experiment screens.

use edgeflag_evaluator::model::Flag;
use leptos::prelude::*;

use crate::ui::state::AppState;

/// The flags a screen applies to, the chosen one (the first until the admin picks), and the
/// declared environments with the chosen one.
#[derive(Clone, Copy)]
pub struct FlagChoice {
    pub flags: Memo<Vec<String>>,
    pub envs: Memo<Vec<String>>,
    pub chosen: RwSignal<String>,
    pub flag: Memo<String>,
    pub env: RwSignal<String>,
}

impl FlagChoice {
    pub fn new(state: AppState, applies: fn(&Flag) -> bool) -> Self {
        let flags = Memo::new(move |_| {
            state
                .with_model(|m| m.flags.iter().filter(|f| applies(f)).map(|f| f.key.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        });
        let envs = Memo::new(move |_| state.with_model(|m| m.environments.clone()).unwrap_or_default());
        let chosen = RwSignal::new(String::new());
        let flag = Memo::new(move |_| {
            let c = chosen.get();
            if c.is_empty() { flags.with(|l| l.first().cloned().unwrap_or_default()) } else { c }
        });
        FlagChoice { flags, envs, chosen, flag, env: RwSignal::new(String::new()) }
    }
}

/// The two selects of a [`FlagChoice`]; `id` prefixes the test ids (`<id>-flag`, `<id>-env`),
/// `all_label` names the "no environment" option.
#[component]
pub fn FlagChoiceSelects(choice: FlagChoice, id: &'static str, all_label: &'static str) -> impl IntoView {
    let FlagChoice { flags, envs, chosen, flag, env } = choice;
    view! {
        <label>"Flag "
            <select data-testid=format!("{id}-flag") on:change=move |ev| chosen.set(event_target_value(&ev))>
                {move || flags.get().into_iter().map(|k| {
                    let selected = k == flag.get_untracked();
                    view! { <option value=k.clone() selected=selected>{k.clone()}</option> }
                }).collect_view()}
            </select>
        </label>
        <label>"Environment "
            <select data-testid=format!("{id}-env") on:change=move |ev| env.set(event_target_value(&ev))>
                <option value="">{all_label}</option>
                {move || envs.get().into_iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
            </select>
        </label>
    }
}
