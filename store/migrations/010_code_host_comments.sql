-- Comments of the embedded code host (adapters/local-git-code-host.adapter.ts): what GitHub would show
-- under a pull request or a commit, kept for the CLI and the demo to read back. A comment is posted
-- once per key: a retried post finds the row its first attempt wrote.
CREATE TABLE code_host_comments (
  id serial PRIMARY KEY,
  -- Absolute path of the repository, as local_pull_requests.repository.
  repository text NOT NULL,
  target_kind text NOT NULL CHECK (target_kind IN ('pull_request', 'commit')),
  pull_request_number integer,
  commit_sha text,
  key text NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((target_kind = 'pull_request') = (pull_request_number IS NOT NULL)),
  CHECK ((target_kind = 'commit') = (commit_sha IS NOT NULL)),
  UNIQUE (repository, key)
);
CREATE INDEX code_host_comments_by_target ON code_host_comments (repository, target_kind, pull_request_number, commit_sha, id);
