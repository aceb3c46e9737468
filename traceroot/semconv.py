"""Every span attribute name traceroot writes.

The names follow the OpenTelemetry GenAI conventions where one exists and the TraceRoot backend's
``traceroot.*`` names otherwise. No other module spells an attribute name literally.
"""

from __future__ import annotations

from typing import Final

# -- Context (stamped on every span by the context processor) ------------------------------------
SESSION_ID: Final = "session.id"
USER_ID: Final = "user.id"
ENVIRONMENT: Final = "traceroot.environment"
GIT_REPO: Final = "traceroot.git.repo"
GIT_REF: Final = "traceroot.git.ref"
# W3C Baggage keys that carry the session and user across processes (traceroot.context sends them,
# traceroot.stamping reads them): the attribute names themselves, as OpenTelemetry's baggage span
# processors copy an entry to the attribute of its own name.
BAGGAGE_SESSION_ID: Final = SESSION_ID
BAGGAGE_USER_ID: Final = USER_ID

# -- TraceRoot span fields ----------------------------------------------------------------------
SPAN_TYPE: Final = "traceroot.span.type"
# Its values (traceroot.spans.SpanKind).
TYPE_SPAN: Final = "span"
TYPE_AGENT: Final = "agent"
TYPE_TOOL: Final = "tool"
TYPE_LLM: Final = "llm"
SPAN_INPUT: Final = "traceroot.span.input"
SPAN_OUTPUT: Final = "traceroot.span.output"
SPAN_METADATA: Final = "traceroot.span.metadata"
SPAN_TAGS: Final = "traceroot.span.tags"
TRACE_METADATA: Final = "traceroot.trace.metadata"
TRACE_TAGS: Final = "traceroot.trace.tags"
LLM_PROMPT: Final = "traceroot.llm.prompt"
LLM_MODEL_PARAMETERS: Final = "traceroot.llm.model_parameters"
# Set when a captured value was cut to the size budget: the attribute names that were cut.
TRUNCATED: Final = "traceroot.truncated"
# Streams: seconds from the request to the first chunk, and whether the stream stopped early.
LLM_TIME_TO_FIRST_CHUNK: Final = "traceroot.llm.time_to_first_chunk"
LLM_STREAM_PARTIAL: Final = "traceroot.llm.stream.partial"
# A span ended by traceroot because what it traced was abandoned before it finished (a run dropped
# or left early): it keeps what was seen, its status unset.
ABANDONED: Final = "traceroot.abandoned"
LLM_INPUT_COUNT: Final = "traceroot.llm.input.count"
RETRIEVAL_DOCUMENT_COUNT: Final = "traceroot.retrieval.document_count"
# A run that ended by a framework's control-flow exception (an interrupt, a Command): not a failure.
CONTROL_FLOW: Final = "traceroot.control_flow"
# A guardrail's verdict (the OpenAI Agents SDK's guardrail spans): whether its tripwire fired.
GUARDRAIL_TRIGGERED: Final = "traceroot.guardrail.triggered"
# LangGraph: the node a span runs, and the graph step.
LANGGRAPH_NODE: Final = "langgraph.node"
LANGGRAPH_STEP: Final = "langgraph.step"

# The live span tree, on spans sent to TraceRoot (traceroot.span_paths): ancestors, root first.
SPAN_PATH: Final = "traceroot.span.path"  # names, root to the span itself
SPAN_IDS_PATH: Final = "traceroot.span.ids_path"  # span ids as 16 hex digits, root to the parent
SPAN_STARTS_PATH: Final = "traceroot.span.starts_path"  # start times, epoch ns in decimal

# -- OpenTelemetry GenAI ------------------------------------------------------------------------
GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"

# Values of gen_ai.operation.name.
OPERATION_CHAT: Final = "chat"
OPERATION_TEXT_COMPLETION: Final = "text_completion"
OPERATION_EMBEDDINGS: Final = "embeddings"
OPERATION_RETRIEVAL: Final = "retrieval"
OPERATION_EXECUTE_TOOL: Final = "execute_tool"
OPERATION_INVOKE_AGENT: Final = "invoke_agent"
OPERATION_CREATE_AGENT: Final = "create_agent"
OPERATION_GENERATE_CONTENT: Final = "generate_content"

# Every usage attribute starts with one of these (GenAI; OpenInference's below).
GEN_AI_USAGE_PREFIX: Final = "gen_ai.usage."

# -- General OpenTelemetry ----------------------------------------------------------------------
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
HTTP_RESPONSE_STATUS_CODE: Final = "http.response.status_code"
# A resource attribute, not a span's: read into each stored record, written back on replay.
SERVICE_NAME: Final = "service.name"
# The exception event (``Span.record_exception``) and its attributes.
EXCEPTION_EVENT: Final = "exception"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"

# -- Other instrumentations' names, read by the reader of foreign spans (traceroot.foreign) -----
# (OpenInference's kind, input and output are also written on @observe agent and tool spans, for
# the backends that read only them: traceroot.observed_kinds.)
# Older GenAI conventions (OpenLLMetry, earlier contrib versions) and provider spellings.
GEN_AI_SYSTEM: Final = "gen_ai.system"
GEN_AI_USAGE_PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
GEN_AI_USAGE_COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
# OpenInference.
OPENINFERENCE_SPAN_KIND: Final = "openinference.span.kind"
OPENINFERENCE_INPUT_VALUE: Final = "input.value"
OPENINFERENCE_INPUT_MIME_TYPE: Final = "input.mime_type"
OPENINFERENCE_OUTPUT_VALUE: Final = "output.value"
OPENINFERENCE_OUTPUT_MIME_TYPE: Final = "output.mime_type"
OPENINFERENCE_MODEL_NAME: Final = "llm.model_name"
OPENINFERENCE_EMBEDDING_MODEL_NAME: Final = "embedding.model_name"
OPENINFERENCE_PROVIDER: Final = "llm.provider"
OPENINFERENCE_SYSTEM: Final = "llm.system"
OPENINFERENCE_INVOCATION_PARAMETERS: Final = "llm.invocation_parameters"
OPENINFERENCE_INPUT_MESSAGES_PREFIX: Final = "llm.input_messages."
OPENINFERENCE_OUTPUT_MESSAGES_PREFIX: Final = "llm.output_messages."
OPENINFERENCE_TOKEN_COUNT_PREFIX: Final = "llm.token_count."
OPENINFERENCE_TOKENS_PROMPT: Final = "llm.token_count.prompt"
OPENINFERENCE_TOKENS_COMPLETION: Final = "llm.token_count.completion"
OPENINFERENCE_TOKENS_CACHE_READ: Final = "llm.token_count.prompt_details.cache_read"
OPENINFERENCE_TOKENS_CACHE_WRITE: Final = "llm.token_count.prompt_details.cache_write"
OPENINFERENCE_TOKENS_REASONING: Final = "llm.token_count.completion_details.reasoning"
OPENINFERENCE_TOOL_NAME: Final = "tool.name"
OPENINFERENCE_TOOL_DESCRIPTION: Final = "tool.description"
OPENINFERENCE_TOOL_CALL_ID: Final = "tool_call.id"
OPENINFERENCE_TOOL_ID: Final = "tool.id"
OPENINFERENCE_TOOL_PARAMETERS: Final = "tool.parameters"
OPENINFERENCE_MIME_JSON: Final = "application/json"
# Values of openinference.span.kind that traceroot writes (on @observe agent and tool spans).
OPENINFERENCE_KIND_AGENT: Final = "AGENT"
OPENINFERENCE_KIND_TOOL: Final = "TOOL"

# -- OpenInference names read from the context, so its ``using_attributes`` keeps working -------
OPENINFERENCE_SESSION_ID: Final = "session.id"
OPENINFERENCE_USER_ID: Final = "user.id"
OPENINFERENCE_METADATA: Final = "metadata"
OPENINFERENCE_TAGS: Final = "tag.tags"

# Model parameters with a GenAI attribute of their own; update_current_span maps them there.
MODEL_PARAMETER_ATTRIBUTES: Final = {
    "temperature": GEN_AI_REQUEST_TEMPERATURE,
    "top_p": GEN_AI_REQUEST_TOP_P,
    "top_k": GEN_AI_REQUEST_TOP_K,
    "max_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "max_completion_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "seed": GEN_AI_REQUEST_SEED,
    "stop": GEN_AI_REQUEST_STOP_SEQUENCES,
    "stop_sequences": GEN_AI_REQUEST_STOP_SEQUENCES,
    "frequency_penalty": GEN_AI_REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": GEN_AI_REQUEST_PRESENCE_PENALTY,
}

# Usage keys users and providers spell in several ways, mapped to one GenAI attribute each.
USAGE_ATTRIBUTES: Final = {
    "input_tokens": GEN_AI_USAGE_INPUT_TOKENS,
    "prompt_tokens": GEN_AI_USAGE_INPUT_TOKENS,
    "output_tokens": GEN_AI_USAGE_OUTPUT_TOKENS,
    "completion_tokens": GEN_AI_USAGE_OUTPUT_TOKENS,
    "cache_read_input_tokens": GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    "cached_tokens": GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    "cache_creation_input_tokens": GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    "reasoning_tokens": GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
}

# Values of gen_ai.provider.name the conventions spell with a dot.
PROVIDER_AWS_BEDROCK: Final = "aws.bedrock"
PROVIDER_AWS_SAGEMAKER: Final = "aws.sagemaker"
PROVIDER_GCP_GEMINI: Final = "gcp.gemini"
PROVIDER_GCP_VERTEX_AI: Final = "gcp.vertex_ai"
PROVIDER_AZURE_OPENAI: Final = "azure.ai.openai"
PROVIDER_AZURE_INFERENCE: Final = "azure.ai.inference"
PROVIDER_IBM_WATSONX: Final = "ibm.watsonx.ai"

# The AWS request id of a call (OTel's AWS SDK name).
AWS_REQUEST_ID: Final = "aws.request_id"

# Values of gen_ai.provider.name spelled without a dot, used where a name is needed.
PROVIDER_MISTRAL: Final = "mistral_ai"
PROVIDER_GROQ: Final = "groq"
# The agent an ``agents.complete`` call (Mistral) runs.
GEN_AI_AGENT_ID: Final = "gen_ai.agent.id"

# -- anthropic --
# What the Anthropic integration records beyond the GenAI names: the token count of a
# count_tokens call (no usage: counting is not billed as a model call), under the name Anthropic's
# own telemetry gives it, and the service tier the response reports.
ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS: Final = "anthropic.message.count_tokens.input_tokens"
ANTHROPIC_RESPONSE_SERVICE_TIER: Final = "anthropic.response.service_tier"
OPERATION_COUNT_TOKENS: Final = "count_tokens"  # the span name's operation; not a GenAI operation
