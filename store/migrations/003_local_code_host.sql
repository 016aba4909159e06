-- Pull requests of the embedded code host (adapters/local-git-code-host.adapter.ts). The branch and
-- its commit live in the local repository; everything a hosted PR would add lives here.
CREATE TABLE local_pull_requests (
  number serial PRIMARY KEY,
  -- Absolute path of the repository.
  repository text NOT NULL,
  branch text NOT NULL,
  base_revision text NOT NULL,
  head_revision text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  diff text NOT NULL,
  draft boolean NOT NULL,
  incident_id text NOT NULL,
  state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- One PR per branch: retries of openPullRequest converge on this row.
  UNIQUE (repository, branch)
);
