CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  username TEXT,
  email TEXT,
  password_hash BLOB,
  birthday TEXT
);
