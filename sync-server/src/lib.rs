//! The Gridwork sync server: reconciles devices' Automerge records over HTTP.
