//! `Config::parse` on arbitrary text: a broken config must be an error
//! naming the file, never a panic (`serve` reloads it while running).
#![no_main]

use std::path::Path;

use feedd::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(error) = Config::parse(Path::new("/srv/config/feedd.toml"), text) {
        assert!(
            error.to_string().starts_with("/srv/config/feedd.toml"),
            "{error}"
        );
    }
});
