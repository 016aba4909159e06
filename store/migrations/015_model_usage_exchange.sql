-- What each model call was asked and answered, beside its tokens: an exported run shows the prompt
-- its step sent, and an eval can judge the answer against it. A conversation turn keeps only its
-- system prompt (its messages are in agent_messages). Null on calls recorded before this.
ALTER TABLE model_usage ADD COLUMN system_prompt text;
ALTER TABLE model_usage ADD COLUMN prompt text;
ALTER TABLE model_usage ADD COLUMN answer text;
