//! Finding drivers by name or URL scheme.
//!
//! A [`Registry`] is filled explicitly at start-up (the `harbor` crate's
//! `install_default_drivers` does it for every compiled-in driver). Registering a name or
//! scheme twice is an error, never a silent overwrite.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Error, MessageBus, RemoteTransport};

/// Opens buses of one kind.
#[async_trait]
pub trait BusDriver: Send + Sync + 'static {
    /// The driver's name (`memory`, `nats`, ...).
    fn name(&self) -> &'static str;
    /// Other names it answers to.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// URL schemes it serves (`nats`, `redis`, ...).
    fn schemes(&self) -> &'static [&'static str] {
        &[]
    }
    /// Opens a bus; `target` is the name or URL that selected this driver.
    async fn open(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error>;
}

/// Opens transports of one kind.
#[async_trait]
pub trait TransportDriver: Send + Sync + 'static {
    /// The driver's name (`loopback`, `a2a`).
    fn name(&self) -> &'static str;
    /// Other names it answers to.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// URL schemes it serves.
    fn schemes(&self) -> &'static [&'static str] {
        &[]
    }
    /// Opens a transport; `target` is the name or URL that selected this driver.
    async fn open(&self, target: &str) -> Result<Arc<dyn RemoteTransport>, Error>;
}

/// Drivers of one kind, by name, alias and scheme.
struct Table<D: ?Sized> {
    by_name: BTreeMap<String, Arc<D>>,
    by_scheme: BTreeMap<String, Arc<D>>,
    compiled_out: BTreeMap<String, &'static str>,
}

impl<D: ?Sized> Default for Table<D> {
    fn default() -> Self {
        Self {
            by_name: BTreeMap::new(),
            by_scheme: BTreeMap::new(),
            compiled_out: BTreeMap::new(),
        }
    }
}

impl<D: ?Sized> Table<D> {
    fn insert(&mut self, names: &[&str], schemes: &[&str], driver: Arc<D>) -> Result<(), Error> {
        let taken = names.iter().find(|n| self.by_name.contains_key(**n));
        let taken = taken.or_else(|| schemes.iter().find(|s| self.by_scheme.contains_key(**s)));
        if let Some(name) = taken {
            return Err(Error::DuplicateDriver {
                name: (*name).to_owned(),
            });
        }
        for name in names {
            self.by_name.insert((*name).to_owned(), Arc::clone(&driver));
            self.compiled_out.remove(*name);
        }
        for scheme in schemes {
            self.by_scheme
                .insert((*scheme).to_owned(), Arc::clone(&driver));
        }
        Ok(())
    }

    fn find(&self, target: &str) -> Result<Arc<D>, Error> {
        let (key, found) = match target.split_once("://") {
            Some((scheme, _)) => (scheme, self.by_scheme.get(scheme)),
            None => (target, self.by_name.get(target)),
        };
        if let Some(driver) = found {
            return Ok(Arc::clone(driver));
        }
        if let Some(feature) = self.compiled_out.get(key) {
            return Err(Error::DriverNotCompiled {
                name: key.to_owned(),
                feature: (*feature).to_owned(),
            });
        }
        Err(Error::UnknownDriver {
            name: key.to_owned(),
            known: self.names(),
        })
    }

    fn names(&self) -> Vec<String> {
        self.by_name.keys().cloned().collect()
    }
}

/// The driver registry.
#[derive(Default)]
pub struct Registry {
    buses: Table<dyn BusDriver>,
    transports: Table<dyn TransportDriver>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a bus driver under its name, aliases and schemes.
    pub fn register_bus(&mut self, driver: Arc<dyn BusDriver>) -> Result<(), Error> {
        let mut names = vec![driver.name()];
        names.extend_from_slice(driver.aliases());
        let schemes = driver.schemes();
        self.buses.insert(&names, schemes, driver)
    }

    /// Registers a transport driver under its name, aliases and schemes.
    pub fn register_transport(&mut self, driver: Arc<dyn TransportDriver>) -> Result<(), Error> {
        let mut names = vec![driver.name()];
        names.extend_from_slice(driver.aliases());
        let schemes = driver.schemes();
        self.transports.insert(&names, schemes, driver)
    }

    /// Records that bus driver `name` exists but needs cargo feature `feature`.
    pub fn note_bus_compiled_out(&mut self, name: &str, feature: &'static str) {
        if !self.buses.by_name.contains_key(name) {
            self.buses.compiled_out.insert(name.to_owned(), feature);
        }
    }

    /// Records that transport driver `name` exists but needs cargo feature `feature`.
    pub fn note_transport_compiled_out(&mut self, name: &str, feature: &'static str) {
        if !self.transports.by_name.contains_key(name) {
            self.transports
                .compiled_out
                .insert(name.to_owned(), feature);
        }
    }

    /// The bus driver for a name (`memory`) or URL (`nats://host:4222`).
    pub fn bus_driver(&self, target: &str) -> Result<Arc<dyn BusDriver>, Error> {
        self.buses.find(target)
    }

    /// The transport driver for a name or URL.
    pub fn transport_driver(&self, target: &str) -> Result<Arc<dyn TransportDriver>, Error> {
        self.transports.find(target)
    }

    /// Opens a bus by name or URL.
    pub async fn open_bus(&self, target: &str) -> Result<Arc<dyn MessageBus>, Error> {
        self.bus_driver(target)?.open(target).await
    }

    /// Opens a transport by name or URL.
    pub async fn open_transport(&self, target: &str) -> Result<Arc<dyn RemoteTransport>, Error> {
        self.transport_driver(target)?.open(target).await
    }

    /// Every registered bus name and alias.
    pub fn bus_names(&self) -> Vec<String> {
        self.buses.names()
    }

    /// Every registered transport name and alias.
    pub fn transport_names(&self) -> Vec<String> {
        self.transports.names()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("buses", &self.bus_names())
            .field("transports", &self.transport_names())
            .finish()
    }
}
