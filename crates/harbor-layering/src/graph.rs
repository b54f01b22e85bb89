//! Import loops: the strongly connected components of the file graph.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::resolve::Edges;

/// One import loop: files that all reach each other through imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loop {
    /// The files of the loop, sorted.
    pub files: Vec<PathBuf>,
    /// Every import between two files of the loop.
    pub ties: Vec<Tie>,
}

/// File `from` takes `names` from file `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tie {
    /// The importing file.
    pub from: PathBuf,
    /// The file that defines the names.
    pub to: PathBuf,
    /// The names, sorted.
    pub names: Vec<String>,
}

impl Loop {
    /// The same loop with `base` taken off the front of every path (for shorter reports).
    pub fn relative_to(&self, base: &Path) -> Loop {
        let strip = |p: &PathBuf| p.strip_prefix(base).unwrap_or(p).to_path_buf();
        Loop {
            files: self.files.iter().map(strip).collect(),
            ties: self
                .ties
                .iter()
                .map(|t| Tie {
                    from: strip(&t.from),
                    to: strip(&t.to),
                    names: t.names.clone(),
                })
                .collect(),
        }
    }
}

impl fmt::Display for Loop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        writeln!(f, "{} files: {}", files.len(), files.join(", "))?;
        for tie in &self.ties {
            writeln!(
                f,
                "  {} -> {}: {}",
                tie.from.display(),
                tie.to.display(),
                tie.names.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The loops of a graph over `files` (Tarjan's algorithm; files in a loop of one are fine).
pub(crate) fn loops(files: &[PathBuf], edges: &Edges) -> Vec<Loop> {
    let mut out = Vec::new();
    for component in components(files.len(), edges) {
        if component.len() < 2 {
            continue;
        }
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let ties = edges
            .iter()
            .filter(|((from, to), _)| members.contains(from) && members.contains(to))
            .map(|((from, to), names)| Tie {
                from: files[*from].clone(),
                to: files[*to].clone(),
                names: names.iter().cloned().collect(),
            });
        let mut ties: Vec<Tie> = ties.collect();
        ties.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
        let mut files: Vec<PathBuf> = members.iter().map(|&i| files[i].clone()).collect();
        files.sort();
        out.push(Loop { files, ties });
    }
    out.sort_by(|a, b| a.files.cmp(&b.files));
    out
}

/// Strongly connected components of the graph on `0..n`.
fn components(n: usize, edges: &Edges) -> Vec<Vec<usize>> {
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to) in edges.keys() {
        next[from].push(to);
    }
    let mut state = Tarjan {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            state.visit(v);
        }
    }
    state.out
}

struct Tarjan {
    next: Vec<Vec<usize>>,
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    counter: usize,
    out: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.counter);
        self.low[v] = self.counter;
        self.counter += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for w in self.next[v].clone() {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.out.push(component);
        }
    }
}
