"""The shapes of the HTTP API's requests and answers (pydantic models, shown in /docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

MAX_ONLY_CHARS = 100
MAX_LABEL_CHARS = 255  # a class's name: a folder's name may be this long (the page's teach field allows as many)
MAX_MODEL_NAME_CHARS = 200


# The example of an optional field whose default is "not given". Swagger UI's "Try it out" fills every field
# with its schema's example, else one it makes up from the type ("string" for `only`, which is then refused
# as a label set; a random string matching `predicted`'s pattern, which was stored): a null example leaves
# the field empty, and Swagger UI sends no empty field. (A null default would do, but FastAPI drops it from
# /openapi.json.)
UNSET = [None]


def _true_or_false(value: Any, info: ValidationInfo) -> Any:
    """A query or form value is text: only true and false (any case) are booleans. pydantic alone would also
    take yes, on, 1, y and t (so "?include_preprocessed=no" and a typo of a value pass unnoticed). JSON bodies
    keep their own strict types."""
    if info.mode == "python" and isinstance(value, str):
        if value.strip().lower() not in ("true", "false"):
            raise PydanticCustomError("bool_text", "{value} is not a boolean: use true or false", {"value": repr(value[:20])})
        return value.strip().lower() == "true"
    return value


TextBool = Annotated[bool, BeforeValidator(_true_or_false)]


class ImageOptions(BaseModel):
    """Options of /predict and /read given in the body; each one left out falls back to the query."""

    # A misspelled option ("topk") is refused, not silently dropped for the default.
    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, max_length=MAX_MODEL_NAME_CHARS, description="served model name (default: the first)")
    # no upper bound: as in the CLI and the Python API, more than the model's classes gives them all
    top_k: int | None = Field(None, ge=1, examples=UNSET, description="how many ranked answers (default 5; at most the model's classes are given)")
    only: str | None = Field(None, min_length=1, max_length=MAX_ONLY_CHARS, examples=UNSET,
                             description="restrict answers: digits, letters, upper, lower, or characters like ACGT")
    include_preprocessed: TextBool | None = Field(None, examples=UNSET, description="/predict only: also return the 28x28 image the "
                                                  "model sees (true or false, in any case)")
    lexicon: Literal["english"] | None = Field(None, examples=UNSET,
                                              description="/read with a line model only: each word read is replaced "
                                                          "by the English word that fits its ink best")


class ImageJSON(ImageOptions):
    """A JSON /predict or /read request."""

    image: str = Field(..., min_length=1, description="the image: base64 (PNG, JPEG...) or a data: URL")


class CorrectionFields(BaseModel):
    """The fields of a correction besides its image."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(..., min_length=1, max_length=MAX_LABEL_CHARS, description="the right answer")
    model: str | None = Field(None, max_length=MAX_MODEL_NAME_CHARS, description="the model corrected (default: the first)")
    # printable characters only: no NUL or direction overrides stored and shown back to other users
    predicted: str | None = Field(None, max_length=MAX_LABEL_CHARS, pattern=r"^[^\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]*$",
                                  examples=UNSET, description="what the model answered")


class CorrectionJSON(CorrectionFields):
    """A JSON correction."""

    image: str = Field(..., min_length=1, description="the drawing: base64 PNG or a data: URL")


class RankedLabel(BaseModel):
    """One answer of a ranking: a label and its probability."""

    label: str
    confidence: float


class PredictResponse(BaseModel):
    """One character: the best label, its probability, the ranking, and flags."""

    model: str
    label: str | None = Field(description="null when there is no ink")
    confidence: float
    top_k: list[RankedLabel]
    uncertain: bool
    no_ink: bool
    several_characters: str | None = Field(None, description="set (and uncertain) when the image seems to hold several "
                                                             "characters: their reading cut apart (\"12\"); send it to /read")
    preprocessed: str | None = Field(None, description="data:image/png;base64 URL of the 28x28 model input, if asked")


class CharacterBox(BaseModel):
    """One character read in an image: its label, where it is, and how sure the model is."""

    label: str
    confidence: float
    box: list[int] = Field(description="left, top, right, bottom in image pixels (right/bottom exclusive)")
    line: int
    top_k: list[RankedLabel]
    uncertain: bool
    space_before: bool
    punctuation: bool = Field(description="a punctuation mark: a character model tells a period, comma, dash, colon, "
                                          "semicolon or bullet (\u2022) by its shape and place, not by reading it; a line "
                                          "model reads punctuation itself (apostrophes too)")


class ReadResponse(BaseModel):
    """Several characters, with their boxes."""

    model: str
    text: str
    confidence: float
    uncertain: bool
    no_ink: bool
    characters: list[CharacterBox]


class ModelInfo(BaseModel):
    """A served model: what it reads, its labels and its recorded metrics."""

    name: str
    default: bool
    loaded: bool
    kind: Literal["character", "line"] = Field(description="'character': one character per image (/predict; /read "
                                                           "cuts the characters apart); 'line': reads whole lines (/read only)")
    arch: str
    label_set: str
    labels: list[str]
    lexicons: list[Literal["english"]] = Field(description="the word lists /read can look this model's words up in "
                                                           "(its lexicon option): line models only, on a server "
                                                           "with inkread[words]")
    recipe: str
    metrics: dict[str, Any]


class ModelsResponse(BaseModel):
    """Every model the server offers; ``default`` marks the one a request that names none gets."""

    models: list[ModelInfo]


class CorrectionOut(BaseModel):
    """A stored correction; its drawing is at ``image_url``."""

    id: int
    created_at: str
    model: str
    label: str
    predicted: str | None
    image_url: str


class CorrectionPage(BaseModel):
    """A page of corrections, newest first, with the total for paging."""

    items: list[CorrectionOut]
    total: int
    limit: int
    offset: int


class Health(BaseModel):
    """The server is up; which models are loaded yet, and which failed to load."""

    status: Literal["ok", "degraded", "failing"] = Field(
        description="ok; degraded: a model other than the default failed to load (200); "
                    "failing: the default model failed to load (503)")
    models: dict[str, bool] = Field(description="model name -> loaded yet")
    failed: dict[str, str] = Field(default_factory=dict, description="model name -> why it could not be loaded (one line)")
    detail: str | None = Field(None, description="what is wrong, in one line, unless the status is ok")


class ErrorResponse(BaseModel):
    """Every error answer: one line of text."""

    detail: str = Field(description="what is wrong and how to fix it, in one line")
