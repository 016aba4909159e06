-- Reviewers asked for on a local pull request (the author of a cited line, when known): GitHub
-- requests them through the App; the local code host keeps them for the CLI and the tests.
ALTER TABLE local_pull_requests ADD COLUMN IF NOT EXISTS reviewers text[] NOT NULL DEFAULT '{}';
