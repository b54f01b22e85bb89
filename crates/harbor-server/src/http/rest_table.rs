//! The HTTP+JSON routes as axum serves them, built from [`Method::rest_routes`].
//!
//! Templates that differ only in a custom verb after their last parameter
//! (`/tasks/{id}`, `/tasks/{id}:cancel`, `/tasks/{id}:subscribe`) are one axum path (axum
//! cannot match a suffix after a parameter); [`Targets::pick`] tells them apart by the text
//! after the segment's last `:`. A segment with no such route answers "no such route".

use std::collections::HashMap;
use std::sync::Arc;

use harbor_a2a::methods::json_field_name;
use harbor_a2a::{HttpVerb, Method, RestRoute};

/// One axum path and the routes each verb serves on it.
pub(crate) struct Shape {
    /// The axum path (a template without its custom verb), such as `/tasks/{id}`.
    pub(crate) path: &'static str,
    /// The verbs served on the path, each with its routes.
    pub(crate) verbs: Vec<(HttpVerb, Arc<Targets>)>,
}

/// The routes of one verb on one axum path.
pub(crate) struct Targets {
    /// The parameter that carries a custom verb, when a route of the path has one.
    verb_param: Option<&'static str>,
    /// The routes, told apart by their custom verb.
    targets: Vec<Target>,
}

/// One route of the table.
pub(crate) struct Target {
    pub(crate) method: Method,
    pub(crate) route: RestRoute,
    /// The custom verb after the last parameter (`cancel`).
    verb: Option<&'static str>,
}

/// A route's template split into its axum path, the parameter that carries a custom verb,
/// and the verb: `/tasks/{id}:cancel` is `/tasks/{id}`, `id`, `cancel`.
fn split(template: &'static str) -> (&'static str, Option<(&'static str, &'static str)>) {
    let last = template.rsplit('/').next().unwrap_or(template);
    match last
        .strip_prefix('{')
        .and_then(|rest| rest.split_once("}:"))
    {
        Some((param, verb)) => (
            &template[..template.len() - verb.len() - 1],
            Some((param, verb)),
        ),
        None => (template, None),
    }
}

/// Every axum path of the table, in the table's order, with the routes each verb serves.
pub(crate) fn shapes() -> Vec<Shape> {
    let mut shapes: Vec<(&'static str, Vec<(HttpVerb, Targets)>)> = Vec::new();
    let mut verb_params: HashMap<&'static str, &'static str> = HashMap::new();
    for method in Method::ALL {
        for route in method.rest_routes() {
            let (path, verb) = split(route.path);
            if let Some((param, _)) = verb {
                verb_params.insert(path, param);
            }
            let index = match shapes.iter().position(|(p, _)| *p == path) {
                Some(index) => index,
                None => {
                    shapes.push((path, Vec::new()));
                    shapes.len() - 1
                }
            };
            let verbs = &mut shapes[index].1;
            let target = Target {
                method,
                route: *route,
                verb: verb.map(|(_, verb)| verb),
            };
            match verbs.iter_mut().find(|(v, _)| *v == route.verb) {
                Some((_, targets)) => targets.targets.push(target),
                None => verbs.push((
                    route.verb,
                    Targets {
                        verb_param: None,
                        targets: vec![target],
                    },
                )),
            }
        }
    }
    shapes
        .into_iter()
        .map(|(path, verbs)| Shape {
            path,
            verbs: verbs
                .into_iter()
                .map(|(verb, mut targets)| {
                    targets.verb_param = verb_params.get(path).copied();
                    (verb, Arc::new(targets))
                })
                .collect(),
        })
        .collect()
}

impl Targets {
    /// The route that serves a request with these (decoded) path parameters, and the request
    /// fields its path fills (`taskId`, `id`; a missing parameter fills `""`). `None` when
    /// the custom verb (or its absence) names no route here.
    pub(crate) fn pick(
        &self,
        params: &HashMap<String, String>,
    ) -> Option<(&Target, Vec<(String, String)>)> {
        let param = |name: &str| params.get(name).map_or("", String::as_str);
        let (target, verb_value) = match self.verb_param {
            Some(name) => {
                let (value, verb) = match param(name).rsplit_once(':') {
                    Some((value, verb)) => (value, Some(verb)),
                    None => (param(name), None),
                };
                let target = self.targets.iter().find(|t| t.verb == verb)?;
                (target, Some((name, value)))
            }
            None => (self.targets.first()?, None),
        };
        let (path, _) = split(target.route.path);
        let fields = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let value = match verb_value {
                    Some((verb_param, value)) if verb_param == name => value,
                    _ => param(name),
                };
                (json_field_name(name), value.to_owned())
            })
            .collect();
        Some((target, fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(
        path: &str,
        verb: HttpVerb,
        params: &[(&str, &str)],
    ) -> Option<(Method, Vec<(String, String)>)> {
        let shapes = shapes();
        let shape = shapes.iter().find(|s| s.path == path)?;
        let (_, targets) = shape.verbs.iter().find(|(v, _)| *v == verb)?;
        let params = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        targets.pick(&params).map(|(t, fields)| (t.method, fields))
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_table_makes_the_seven_axum_paths_of_the_binding() {
        let served: Vec<(&str, Vec<HttpVerb>)> = shapes()
            .iter()
            .map(|s| (s.path, s.verbs.iter().map(|(v, _)| *v).collect()))
            .collect();
        use HttpVerb::{Delete, Get, Post};
        assert_eq!(
            served,
            vec![
                ("/message:send", vec![Post]),
                ("/message:stream", vec![Post]),
                ("/tasks/{id}", vec![Get, Post]),
                ("/tasks", vec![Get]),
                ("/tasks/{task_id}/pushNotificationConfigs", vec![Post, Get]),
                (
                    "/tasks/{task_id}/pushNotificationConfigs/{id}",
                    vec![Get, Delete]
                ),
                ("/extendedAgentCard", vec![Get]),
            ]
        );
    }

    #[test]
    fn custom_verbs_are_told_apart_by_the_last_colon() {
        use HttpVerb::{Get, Post};
        let tasks = "/tasks/{id}";
        assert_eq!(
            pick(tasks, Get, &[("id", "t1")]),
            Some((Method::GetTask, fields(&[("id", "t1")])))
        );
        assert_eq!(
            pick(tasks, Get, &[("id", "a:b:subscribe")]),
            Some((Method::SubscribeToTask, fields(&[("id", "a:b")])))
        );
        assert_eq!(
            pick(tasks, Post, &[("id", "t1:cancel")]),
            Some((Method::CancelTask, fields(&[("id", "t1")])))
        );
        assert_eq!(
            pick(tasks, Post, &[("id", ":subscribe"), ("tenant", "x")]),
            Some((Method::SubscribeToTask, fields(&[("id", "")])))
        );
        assert_eq!(pick(tasks, Get, &[("id", "t1:cancel")]), None);
        assert_eq!(pick(tasks, Get, &[("id", "t1:")]), None);
        assert_eq!(pick(tasks, Post, &[("id", "t1")]), None);
        // A path whose parameters could not be decoded reads as empty ones.
        assert_eq!(
            pick(tasks, Get, &[]),
            Some((Method::GetTask, fields(&[("id", "")])))
        );
        assert_eq!(pick(tasks, Post, &[]), None);
    }

    #[test]
    fn other_parameters_are_taken_whole() {
        let push = "/tasks/{task_id}/pushNotificationConfigs/{id}";
        assert_eq!(
            pick(push, HttpVerb::Delete, &[("task_id", "a:b"), ("id", "p:1")]),
            Some((
                Method::DeleteTaskPushNotificationConfig,
                fields(&[("taskId", "a:b"), ("id", "p:1")])
            ))
        );
        assert_eq!(
            pick("/extendedAgentCard", HttpVerb::Get, &[("tenant", "t")]),
            Some((Method::GetExtendedAgentCard, Vec::new()))
        );
    }
}
