"""Request and response models: `XCreate` / `XUpdate` bodies, `XPublic` answers. Field names
are the CLI's JSON keys and the CSV headers; unknown fields are refused."""
