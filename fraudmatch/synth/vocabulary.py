"""Fixed vocabulary of the synthetic councils: partners, datasets, rules, word lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (council id, postcode area, display name). Area letters respect the real postcode rules
#: (1st letter not Q, V, X; 2nd not I, J, Z) and are not real UK areas.
PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("northmoor", "NM", "Northmoor"),
    ("eastvale", "EV", "Eastvale"),
    ("southwold_bay", "SB", "Southwold Bay"),
    ("westmere", "WM", "Westmere"),
    ("ravensford", "RF", "Ravensford"),
    ("kelderbrook", "KB", "Kelderbrook"),
    ("ashcombe", "AC", "Ashcombe"),
    ("highcliffe_moor", "HM", "Highcliffe Moor"),
    ("lindenfield", "LF", "Lindenfield"),
    ("thornbury_marsh", "TH", "Thornbury Marsh"),
)


#: Postcode inward letters: never C, I, K, M, O, V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True)
class DatasetSpec:
    """Column order and required columns of one dataset, mirroring the shipped datasets.yaml."""

    code: str
    columns: tuple[str, ...]
    required: frozenset[str]

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c.endswith("_date") or c.startswith("date_of_"))


def _spec(code: str, columns: str) -> DatasetSpec:
    names = columns.split()
    return DatasetSpec(
        code,
        tuple(c.rstrip("*") for c in names),
        frozenset(c.rstrip("*") for c in names if c.endswith("*")),
    )


_CLAIM = (
    "record_id* surname* forenames* date_of_birth* ni_number address* postcode* uprn "
    "claim_start_date claim_end_date"
)


DATASETS: dict[str, DatasetSpec] = {
    "payroll": _spec(
        "PY",
        "record_id* surname* forenames* date_of_birth* ni_number address postcode sort_code "
        "account_number job_title start_date end_date",
    ),
    "housing_benefit": _spec("HB", _CLAIM),
    "council_tax_reduction": _spec("CT", _CLAIM),
    "council_tax_spd": _spec(
        "SP", "record_id* surname* forenames* address* postcode* uprn discount_start_date"
    ),
    "council_tax_disregards": _spec(
        "DR",
        "record_id* surname* forenames* address* postcode* uprn date_of_birth disregard_reason* "
        "start_date end_date",
    ),
    "electoral_register": _spec(
        "ER", "record_id* surname* forenames* address* postcode* uprn date_of_birth"
    ),
    "blue_badge": _spec(
        "BB",
        "record_id* surname* forenames* date_of_birth* address postcode badge_number issue_date "
        "expiry_date*",
    ),
    "concessionary_travel": _spec(
        "CC",
        "record_id* surname* forenames* date_of_birth* address postcode pass_number issue_date "
        "expiry_date*",
    ),
    "deceased": _spec(
        "DC",
        "record_id* surname* forenames* date_of_birth* date_of_death* address postcode ni_number",
    ),
    "housing_tenants": _spec(
        "HT",
        "record_id* surname* forenames* date_of_birth* ni_number address* postcode* uprn "
        "tenancy_start_date tenancy_end_date",
    ),
    "housing_waiting_list": _spec(
        "WL",
        "record_id* surname* forenames* date_of_birth* ni_number address postcode application_date",
    ),
    "creditors": _spec(
        "SU",
        "record_id* supplier_name* address postcode sort_code account_number company_number "
        "vat_number",
    ),
    "creditor_payments": _spec(
        "IN",
        "record_id* supplier_id* supplier_name invoice_number invoice_date* amount* payment_date",
    ),
}


RULES: tuple[str, ...] = (
    "payroll_to_housing_benefit",
    "payroll_to_payroll",
    "payroll_to_creditors",
    "blue_badge_to_deceased",
    "concessionary_travel_to_deceased",
    "housing_tenants_to_housing_tenants",
    "housing_tenants_to_deceased",
    "council_tax_spd_to_electoral_register",
    "housing_benefit_to_housing_benefit",
    "creditor_duplicate_payments",
    "housing_waiting_list_to_housing_tenants",
    "council_tax_reduction_to_payroll",
)


@dataclass(frozen=True)
class IdRule:
    """A 'same person' rule: two datasets, a partner scope and a time condition."""

    name: str
    left: str
    right: str
    scope: str  # "any" partners, or "other" (the two records at different partners)
    time: str  # overlap | expiry_after_death | open_at_cycle | open_at_application


ID_RULES: tuple[IdRule, ...] = (
    IdRule("payroll_to_housing_benefit", "payroll", "housing_benefit", "any", "overlap"),
    # the two jobs must overlap (the rule's condition): one after the other is a move
    IdRule("payroll_to_payroll", "payroll", "payroll", "other", "overlap"),
    IdRule("blue_badge_to_deceased", "blue_badge", "deceased", "any", "expiry_after_death"),
    IdRule(
        "concessionary_travel_to_deceased",
        "concessionary_travel",
        "deceased",
        "any",
        "expiry_after_death",
    ),
    IdRule(
        "housing_tenants_to_housing_tenants",
        "housing_tenants",
        "housing_tenants",
        "other",
        "overlap",
    ),
    IdRule("housing_tenants_to_deceased", "housing_tenants", "deceased", "any", "open_at_cycle"),
    IdRule(
        "housing_benefit_to_housing_benefit",
        "housing_benefit",
        "housing_benefit",
        "other",
        "overlap",
    ),
    IdRule(
        "housing_waiting_list_to_housing_tenants",
        "housing_waiting_list",
        "housing_tenants",
        "any",
        "open_at_application",
    ),
    IdRule(
        "council_tax_reduction_to_payroll", "council_tax_reduction", "payroll", "any", "overlap"
    ),
)


#: The period (start, end) columns of datasets whose records are spells of time.
PERIODS: dict[str, tuple[str, str]] = {
    "payroll": ("start_date", "end_date"),
    "housing_benefit": ("claim_start_date", "claim_end_date"),
    "council_tax_reduction": ("claim_start_date", "claim_end_date"),
    "housing_tenants": ("tenancy_start_date", "tenancy_end_date"),
}


#: Datasets whose address is the property the service is for: a record at a council other
#: than the person's home council shows an address in that council's area.
ADDRESS_BOUND = frozenset(
    {
        "housing_benefit",
        "council_tax_reduction",
        "housing_tenants",
        "blue_badge",
        "concessionary_travel",
    }
)


#: The one file carrying an undocumented extra column (partner index, dataset, column).
EXTRA_COLUMN = (0, "housing_benefit", "notes")


TRUTH_CASE_COLUMNS = (
    "rule",
    "kind",
    "left_partner",
    "left_dataset",
    "left_record_id",
    "right_partner",
    "right_dataset",
    "right_record_id",
    "note",
)


DISREGARD_REASONS = ("student", "carer", "severe_mental_impairment", "apprentice", "care_leaver")


JOB_TITLES = (
    "Refuse Collector", "Care Assistant", "Social Worker", "Teaching Assistant", "Librarian",
    "Planning Officer", "Environmental Health Officer", "Housing Officer", "Revenues Officer",
    "Benefits Assessor", "Customer Services Advisor", "Finance Officer", "Accountant",
    "Solicitor", "Civil Engineer", "Highways Inspector", "Parks Operative", "Cleaner",
    "School Cook", "Caretaker", "Youth Worker", "Occupational Therapist", "Team Leader",
    "Project Manager", "ICT Support Analyst", "Data Analyst", "HR Advisor", "Payroll Officer",
    "Procurement Officer", "Building Control Surveyor", "Licensing Officer", "Traffic Warden",
    "Street Cleansing Operative", "Lifeguard", "Leisure Assistant", "Democratic Services Officer",
    "Electoral Services Officer", "Fraud Investigator", "Internal Auditor", "Head of Service",
)  # fmt: skip


TRADES = (
    "Plumbing", "Electrical", "Building", "Roofing", "Landscapes", "Cleaning", "Catering",
    "Transport", "Consulting", "IT Solutions", "Print", "Stationery", "Security", "Care",
    "Scaffolding", "Joinery", "Glazing", "Waste Management", "Plant Hire", "Training",
    "Fencing", "Tree Surgery", "Decorating", "Flooring", "Heating", "Pest Control", "Signs",
    "Couriers", "Recruitment", "Legal Services", "Surveying", "Grounds Maintenance",
)  # fmt: skip


STREET_TYPES: tuple[tuple[str, str, float], ...] = (
    ("Road", "Rd", 0.30), ("Street", "St", 0.20), ("Avenue", "Ave", 0.08), ("Lane", "Ln", 0.08),
    ("Close", "Cl", 0.08), ("Drive", "Dr", 0.06), ("Way", "Way", 0.04),
    ("Crescent", "Cres", 0.03), ("Gardens", "Gdns", 0.03), ("Place", "Pl", 0.02),
    ("Grove", "Gr", 0.02), ("Court", "Ct", 0.02), ("Terrace", "Terr", 0.02),
    ("Walk", "Wlk", 0.01), ("Row", "Row", 0.01), ("Square", "Sq", 0.02),
)  # fmt: skip


NULL_DAY = np.iinfo(np.int32).min  # sentinel for "no date" in numpy day arrays
