"""Rules of whole resources of one type, run once the walker has checked the resource's elements.

Each resource type with rules beyond its elements' (a Bundle's entries, links and references; a
QuestionnaireResponse against its Questionnaire; the definitional resources: Questionnaire,
Measure, SearchParameter, ValueSet, CodeSystem, StructureDefinition...) has one check module in
``checks/``; this module calls the one for the resource's type. The definitional resources'
modules are imported when a resource of their type is met: a new process validating a pilot
message loads 90 of ecanfhir's modules instead of 108.
"""

from __future__ import annotations

from ._context import Frame, Run
from .checks.bundle import check_bundle, scope_of
from .checks.bundle_link import check_bundle_links, check_search_set
from .checks.bundle_references import check_reachable_entries, check_relative_references
from .checks.observation_practice import check_observation_practice
from .checks.reference import resolver_for

__all__ = ["check_resource_rules"]


def check_resource_rules(run: Run, frame: Frame) -> None:
    """The rules of the frame's resource type, into ``run.issues``."""
    resource, root_path, rt = frame.resource, frame.path, frame.resource_type
    if rt == "Bundle":
        scope_of(frame)
        run.issues.extend(check_bundle(frame))
        run.issues.extend(check_bundle_links(resource, root_path))
        run.issues.extend(check_reachable_entries(resource, scope_of(frame), root_path))
        run.issues.extend(check_relative_references(run, frame))
        run.issues.extend(check_search_set(
            resource, root_path, is_resource_type=run.schema.registry.is_resource_type))
    elif rt == "Observation" and run.options.advice:
        run.issues.extend(check_observation_practice(resource, root_path))
    elif rt == "QuestionnaireResponse":
        from .checks.questionnaire import check_questionnaire_response

        run.issues.extend(check_questionnaire_response(
            resource, root_path, registry=run.schema.registry, terminology=run.terminology,
            resolve=resolver_for(frame)))
    elif rt == "Questionnaire":
        from .checks.questionnaire_definition import check_questionnaire

        run.issues.extend(check_questionnaire(resource, root_path,
                                              registry=run.schema.registry))
    elif rt == "MeasureReport":
        from .checks.measure import check_measure_report

        run.issues.extend(check_measure_report(resource, root_path,
                                               registry=run.schema.registry))
    elif rt == "Measure":
        from .checks.measure import check_measure

        run.issues.extend(check_measure(resource, root_path, registry=run.schema.registry))
    elif rt == "SearchParameter":
        from .checks.search_parameter import check_search_parameter

        run.issues.extend(check_search_parameter(resource, root_path,
                                                 registry=run.schema.registry))
    elif rt == "CapabilityStatement":
        from .checks.search_parameter import check_capability_search_params

        run.issues.extend(check_capability_search_params(resource, root_path,
                                                         registry=run.schema.registry))
    elif rt == "ValueSet":
        from .checks.value_set import check_value_set

        run.issues.extend(check_value_set(run, resource, root_path))
    elif rt == "ConceptMap":
        from .checks.concept_map import check_concept_map

        run.issues.extend(check_concept_map(run, resource, root_path))
    elif rt == "CodeSystem":
        from .checks.code_system import check_code_system

        run.issues.extend(check_code_system(
            run, resource, root_path,
            contained_in=frame.parent.resource_type if frame.contained and frame.parent
            else None))
    elif rt == "StructureDefinition":
        from .checks.structure_definition import check_structure_definition

        run.issues.extend(check_structure_definition(resource, root_path,
                                                     registry=run.schema.registry))
