"""``GET|POST /Measure/{id}/$evaluate-measure?periodStart=&periodEnd=``: a KPI report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from .._fhirio import fhir_response, read_body
from ..deps import ServicesDep
from ..kpi import evaluate_measure, parse_period

router = APIRouter()


@router.get("/Measure/{measure_id}/$evaluate-measure")
def evaluate_get(request: Request, measure_id: str, services: ServicesDep) -> Response:
    return _evaluate(request, measure_id, services, request.query_params)


@router.post("/Measure/{measure_id}/$evaluate-measure")
async def evaluate_post(request: Request, measure_id: str, services: ServicesDep) -> Response:
    params: dict[str, Any] = dict(request.query_params)
    if request.headers.get("content-length", "0") != "0":
        body = await read_body(request, max_bytes=services.settings.max_body_bytes,
                                    max_depth=services.settings.max_json_depth)
        params.update(_parameters(body))
    return await run_in_threadpool(_evaluate, request, measure_id, services, params)


def _evaluate(request: Request, measure_id: str, services: ServicesDep,
              params: Any) -> Response:
    period = parse_period(params.get("periodStart"), params.get("periodEnd"))
    centre = services.settings.centre
    report = evaluate_measure(services.store, measure_id, period, reporter_name=centre.name,
                              reporter_sor=centre.sor)
    return fhir_response(request, report)


def _parameters(body: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        for param in body.get("parameter") or []:
            if isinstance(param, dict) and param.get("name") in ("periodStart", "periodEnd"):
                value = param.get("valueDate") or param.get("valueDateTime")
                if isinstance(value, str):
                    out[param["name"]] = value
    return out
