"""minyi-suban (民意速办): the domain package shared by every function.

Business rules live here; only `minyi.dal` touches boto3/pynamodb. Handlers in
`functions/` parse events, call these modules and shape responses.
"""
