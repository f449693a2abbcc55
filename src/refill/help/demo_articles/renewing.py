# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""Demo articles about renewing: how to renew, auto-renew, plans and prices (every market, and the
demo markets' own), the keep-my-number plan, and what happens when a plan ends."""

from __future__ import annotations

from refill.help import topics
from refill.help.models import Article

from .article import DemoArticle

C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.RENEW,
        C.RENEWING,
        "how-to-renew",
        "How to renew your plan",
        "如何续费套餐",
        """Renewing keeps your number and gives you a new period of your plan with fresh allowances.

## Renew on the web
1. Log in and open [My lines](/lines/).
2. Under the number, press **Renew**.
3. Choose a plan and **How many periods** you want to pay for. If you have a promotion code, type it and press **Apply**.
4. Check the price, the start date and the new expiry date shown on the page.
5. Under **How to pay**, choose your wallet, **Wallet first, the rest by card**, a saved card or a new card, then press **Pay**.

You get a receipt by email, and the order is listed under [Orders](/orders/).

## When the new period starts
- **Renewing early** never loses days: the new period starts when the current one ends. You can pay up to 12 periods ahead (some plans allow fewer).
- **If your plan has already ended** (grace period or suspended), the new period starts now. You are not charged for the days the line was off.

## Changing plan
Choosing another plan on the renew page changes it from the next period, so you keep what you paid for until then.

## Other ways to renew
- Top up your [wallet](/wallet/) with a refill PIN or by card, then pay from the wallet.
- Turn on auto-renew so the line renews by itself before it ends.
- A shop that sells our refills can renew the line for you, in cash.

If a payment is refused, nothing is charged and your line does not change: see "Why was my payment refused?".""",
        """续费可以保留您的号码，并获得一个新的套餐周期和全新的套餐用量。

## 在网页上续费
1. 登录后打开[我的号码](/lines/)。
2. 在号码下方点击 **续费**。
3. 选择套餐和 **续费期数**。如果您有优惠码，请输入后点击 **使用**。
4. 核对页面上显示的价格、开始日期和新的到期日期。
5. 在 **支付方式** 中选择钱包、**先用钱包，余额不足部分用银行卡**、已保存的银行卡或新银行卡，然后点击 **支付**。

续费成功后，收据会发送到您的邮箱，订单也会显示在[订单](/orders/)中。

## 新周期从什么时候开始
- **提前续费不会浪费天数**：新周期从当前周期结束时开始。最多可以提前支付 12 个周期（部分套餐更少）。
- **如果套餐已经到期**（处于宽限期或已停机），新周期从现在开始，到期后中断服务的天数不收费。

## 更换套餐
在续费页面选择其他套餐，会从下一个周期开始生效，您已付费的当前周期不受影响。

## 其他续费方式
- 使用充值卡或银行卡为[钱包](/wallet/)充值，再用钱包余额支付。
- 开启自动续费，号码会在到期前自动续费。
- 也可以到销售我们充值卡的门店，用现金为您续费。

如果付款被拒绝，不会扣款，您的号码也不会有任何变化，请参阅"为什么我的付款被拒绝？"。""",
        keywords_en="renew, renewal, extend, pay for my plan, recharge, buy plan, expiry, expire",
        keywords_zh_hans="续费, 续期, 交话费, 缴费, 买套餐, 到期, 延期",
    ),
    DemoArticle(
        topics.AUTO_RENEW,
        C.RENEWING,
        "auto-renew-and-spending-cap",
        "How auto-renew and its spending cap work",
        "自动续费及其消费上限",
        """With auto-renew on, your line renews by itself before the plan ends, so you never lose service or your number.

## Turn it on
1. Open [My lines](/lines/) and press **Turn on auto-renew** under the number (it reads **Auto-renew is on** once it is).
2. Tick **Renew this line automatically before it ends**.
3. Choose how to pay: **Pay from my wallet first**, **Then charge my default card**, **If that fails, charge my backup card**. You can save cards under [Saved payment methods](/payment-methods/).
4. Press **Save**.

## When we charge
We renew about a day before the period ends (the exact time is shown as **Next automatic renewal**). We try your wallet first, then your default card, then your backup card.

## The spending cap
You can set two limits, or leave them empty for no limit:
- **Most to spend on one renewal**: a renewal that costs more is not attempted.
- **Most to spend on auto-renewals in a calendar month**: auto-renew never charges more than this in one month.

If a renewal would go over a cap, we do not charge anything and we tell you why. Raise the cap, or renew yourself from the **Renew** button.

## Turn it off (cancel auto-renew)
Open the line's auto-renew page, untick **Renew this line automatically before it ends** and press **Save**. Nothing more is charged; the plan you paid for runs until its end. With prepaid there is no contract to cancel: a line you do not renew simply ends (see [Grace period and suspension](/help/grace-suspension-number-kept/)).

## If a payment fails
We try again a few times: about 6 hours later, a day later, when the plan ends, and one and three days after it ends, and stop when the grace period ends. Each time we tell you the reason in plain words and how to fix it. Every attempt is separate, so you are never charged twice for one period.

Some banks ask you to confirm each payment yourself. Auto-renew cannot do that: renew once yourself, or use another card.""",
        """开启自动续费后，号码会在套餐到期前自动续费，服务不会中断，号码也不会丢失。

## 如何开启
1. 打开[我的号码](/lines/)，在号码下方点击 **开启自动续费**（开启后显示为 **自动续费已开启**）。
2. 勾选 **在到期前自动续费此号码**。
3. 选择支付顺序：**优先使用钱包余额支付**、**然后从默认银行卡扣款**、**如果失败，从备用银行卡扣款**。银行卡可以在[已保存的支付方式](/payment-methods/)中添加。
4. 点击 **保存**。

## 什么时候扣款
我们会在周期结束前大约一天自动续费（页面上会显示下一次自动续费的时间）。扣款顺序为：先用钱包余额，再扣默认银行卡，最后扣备用银行卡。

## 消费上限
您可以设置两个上限，留空表示不限制：
- **单次续费最高金额**：续费价格超过此金额时，不会尝试扣款。
- **每个自然月自动续费最高金额**：一个自然月内自动续费的扣款总额不会超过此金额。

如果某次续费会超出上限，我们不会扣款，并会告诉您原因。您可以提高上限，或点击 **续费** 按钮自行续费。

## 关闭（取消）自动续费
打开号码的自动续费页面，取消勾选 **在到期前自动续费此号码**，然后点击 **保存**。之后不会再扣款，已付费的套餐会用到期满为止。预付费没有需要解约的合同：不再续费的号码会自然到期（请参阅[宽限期与停机](/help/grace-suspension-number-kept/)）。

## 如果扣款失败
我们会再尝试几次：约 6 小时后、1 天后、套餐到期时，以及到期后第 1 天和第 3 天；宽限期结束后停止尝试。每次失败我们都会用简单的话告诉您原因和解决办法。每次尝试都是独立的，同一个周期绝不会重复扣款。

有些银行要求您亲自确认每一笔付款，自动续费无法完成这一步：请自行续费一次，或改用其他银行卡。""",
        keywords_en="auto renew, automatic, cancel, stop, turn off, unsubscribe, cap, limit, subscription, autopay",
        keywords_zh_hans="自动续费, 取消, 关闭, 停止, 退订, 自动扣款, 上限, 限额",
    ),
    DemoArticle(
        topics.LINE_STATUS,
        C.LINE_STATUS,
        "grace-suspension-number-kept",
        "Grace period, suspension and how long your number is kept",
        "宽限期、停机以及号码保留多久",
        """Each line shows its status on [My lines](/lines/). If a plan ends without being renewed, the line goes through these steps. The days below are the usual ones; your operator may use others.

## Active
Your plan is running: calls, texts and data work until **Valid until**.

## Grace period (7 days after the plan ends)
You can still **receive** calls and texts, but you cannot use data or make calls. Renew now and everything works again at once.

## Suspended (the next 60 days)
The line does not work, but the number is still yours. Renew to bring it back.

## Deactivated (the next 15 days)
The line is switched off. For these 15 days you can still renew and keep your number.

## Number being released
After that the number is no longer yours. It is held for at least 45 days (usually 60) and then may be given to someone else. It cannot be renewed any more.

## In short
With the usual settings, your number is kept for about **82 days after your plan ends** (7 + 60 + 15). Renewing at any time in these days brings the line back to active, and the new period starts on the day you pay: you are not charged for the days the line was off.

## Keeping your number for less
If you will not use the line for a while, a "keep my number" plan keeps the number without calls or data (status **Number kept**), when your operator offers one. Auto-renew can also switch to the cheapest such plan when your usual plan cannot be paid.

We send reminders before your plan ends and when the grace period is about to end, so you have time to act.""",
        """每个号码的状态都显示在[我的号码](/lines/)中。如果套餐到期后没有续费，号码会依次经历以下阶段。下面的天数为通常设置，您的运营商可能有所不同。

## 正常使用
套餐有效期内，通话、短信和数据都可以正常使用，直到 **有效期至** 显示的时间。

## 宽限期（套餐到期后 7 天）
您仍然可以 **接听** 电话和 **接收** 短信，但不能使用数据或拨打电话。此时续费，所有服务会立即恢复。

## 已停机（随后 60 天）
号码无法使用，但仍然属于您。续费即可恢复。

## 预销户（随后 15 天）
号码已关闭。在这 15 天内，您仍然可以续费并保留号码。

## 号码回收中
此后号码不再属于您。号码会被保留至少 45 天（通常为 60 天），之后可能分配给其他人，无法再续费。

## 简而言之
按通常设置，号码在 **套餐到期后约 82 天内**（7 + 60 + 15）会为您保留。在此期间任何时候续费，号码都会恢复正常，新周期从付款当天开始，到期后中断服务的天数不收费。

## 低成本保号
如果您一段时间内不使用这个号码，而运营商提供"保号套餐"，可以用它保留号码（不含通话和数据，状态显示为 **保号中**）。当常用套餐无法扣款时，自动续费也可以改用最便宜的保号套餐。

我们会在套餐到期前以及宽限期即将结束时提醒您，让您有足够的时间处理。""",
        keywords_en="suspended, deactivated, expired, grace, number lost, lapsed, no service",
        keywords_zh_hans="停机, 宽限期, 预销户, 过期, 欠费, 号码回收",
    ),
    DemoArticle(
        topics.PLANS_PRICES,
        C.RENEWING,
        "plans-and-prices",
        "Plans and prices: what each plan includes",
        "套餐与价格：每个套餐包含什么",
        """Every plan gives your line a period of service with its own allowances of data, minutes and texts. The plans and prices of your country are on the renew page of each line.

## See the plans
1. Open [My lines](/lines/) and press **Renew** under the number.
2. Under **Choose a plan** each plan shows its price, how long it lasts and what it includes. Your plan today is marked **Current plan**.

## How long a plan lasts
- **Day plans** (for example 1, 7 or 30 days) last that many days from the moment they start.
- **Monthly plans** run from one date to the same date next month (a plan started on 31 January ends on the last day of February).
- **Annual plans** last one year.

## What "Unlimited" means
**Unlimited** calls, texts or data are shown as such on the plan. An allowance that is used up stops for the rest of the period: buy an add-on with **Buy an add-on** under the number, or renew early.

## Prices
- The price shown before you press **Pay** is the price you pay, taxes as the page states them.
- A price you have paid never changes, even if the plan's price changes later.
- You can pay for several periods at once (**How many periods**); each plan says how many it allows.

## Changing plan
Choose another plan on the renew page: it starts when your current period ends, so you keep what you paid for. See [How to renew your plan](/help/how-to-renew/).

If you will not use the line for a while, the [keep my number plan](/help/keep-my-number/) costs less and keeps your number.""",
        """每个套餐为您的号码提供一个服务周期，以及该周期内的流量、通话分钟数和短信条数。您所在国家或地区的套餐和价格，可以在每个号码的续费页面查看。

## 查看套餐
1. 打开[我的号码](/lines/)，在号码下方点击 **续费**。
2. 在 **选择套餐** 中，每个套餐都会显示价格、有效期和包含的内容。您正在使用的套餐标有 **当前套餐**。

## 套餐的有效期
- **按天计算的套餐**（例如 1 天、7 天或 30 天）：从开始时起算相应的天数。
- **包月套餐**：从某一天到下个月的同一天（1 月 31 日开始的套餐在 2 月的最后一天结束）。
- **年度套餐**：有效期一年。

## “不限量”是什么意思
套餐中标明 **不限量** 的通话、短信或流量，会在套餐上直接显示。某项用量用完后，本周期内将无法继续使用：可以在号码下方点击 **购买加油包**，或提前续费。

## 价格
- 点击 **支付** 前页面显示的价格就是您实际支付的价格，税费按页面说明计算。
- 您已支付的价格不会改变，即使之后套餐调价。
- 可以一次支付多个周期（**续费期数**），每个套餐允许的最多期数各不相同。

## 更换套餐
在续费页面选择其他套餐即可：新套餐从当前周期结束时开始，您已付费的内容不受影响。请参阅[如何续费套餐](/help/how-to-renew/)。

如果您一段时间内不使用这个号码，可以选择费用更低的[保号套餐](/help/keep-my-number/)来保留号码。""",
        keywords_en="plan, price, cost, how much, data, minutes, texts, unlimited, gb, cheapest, compare, which plan",
        keywords_zh_hans="套餐, 价格, 资费, 多少钱, 流量, 通话, 短信, 无限, 不限量, 便宜, 哪个套餐, 比较",
    ),
    DemoArticle(
        topics.PLANS_PRICES,
        C.RENEWING,
        "plans-and-prices-united-states",
        "Plans and prices in the United States",
        "美国的套餐与价格",
        """These are the plans for numbers in the United States. Prices are in US dollars; no sales tax is added. The renew page of your line always shows the current price before you pay.

## Plans
- **Day Pass**: $1.50 for 1 day. 1 GB of data, 100 minutes, 100 texts. Up to 30 days can be paid ahead.
- **7-Day Plan**: $7.00 for 7 days. 5 GB of data, 500 minutes, 500 texts.
- **30-Day Plan**: $25.00 for 30 days. 20 GB of data, unlimited calls and texts.
- **Monthly Unlimited**: $35.00 a calendar month. Unlimited data, calls and texts.
- **Annual Plan**: $300.00 for a year. 240 GB of data, unlimited calls and texts. Up to 2 years ahead.
- **Keep My Number**: $2.00 for 30 days. No calls or data: it only keeps your number. See [Keep my number](/help/keep-my-number/).

Except where said, a plan can be paid up to 12 periods ahead.

## Add-ons
- **5 GB Data Booster**: $10.00, 5 GB of extra data for 30 days. Press **Buy an add-on** under the number.

## Paying
Pay by card, from your [wallet](/wallet/), with a refill PIN (redeemed into the wallet), or in cash at a shop that sells our refills. See [How to renew your plan](/help/how-to-renew/).""",
        """以下是美国号码的套餐。价格以美元计，不另加销售税。号码的续费页面在您付款前始终显示当前价格。

## 套餐
- **日套餐**：1.50 美元，有效期 1 天。含 1 GB 流量、100 分钟通话、100 条短信。最多可提前支付 30 天。
- **7天套餐**：7.00 美元，有效期 7 天。含 5 GB 流量、500 分钟通话、500 条短信。
- **30天套餐**：25.00 美元，有效期 30 天。含 20 GB 流量，通话和短信不限量。
- **包月无限**：每个自然月 35.00 美元。流量、通话和短信均不限量。
- **年度套餐**：300.00 美元，有效期一年。含 240 GB 流量，通话和短信不限量。最多可提前支付 2 年。
- **保号套餐**：2.00 美元，有效期 30 天。不含通话和流量，仅用于保留号码。请参阅[保号套餐](/help/keep-my-number/)。

除上面注明的以外，每个套餐最多可提前支付 12 个周期。

## 加油包
- **5GB 流量加油包**：10.00 美元，30 天内额外 5 GB 流量。在号码下方点击 **购买加油包** 即可购买。

## 支付方式
可以用银行卡、[钱包](/wallet/)余额、充值卡（先兑换到钱包）支付，也可以到销售我们充值卡的门店用现金支付。请参阅[如何续费套餐](/help/how-to-renew/)。""",
        keywords_en="plan, price, cost, how much, dollar, usd, data, minutes, texts, unlimited, gb, cheapest, compare, which plan, booster",
        keywords_zh_hans="套餐, 价格, 资费, 多少钱, 美元, 流量, 通话, 短信, 无限, 不限量, 便宜, 哪个套餐, 加油包",
        market="us",
    ),
    DemoArticle(
        topics.PLANS_PRICES,
        C.RENEWING,
        "plans-and-prices-mainland-china",
        "Plans and prices in mainland China",
        "中国大陆的套餐与价格",
        """These are the plans for numbers in mainland China. Prices are in yuan (CNY) and include 6% tax. The renew page of your line always shows the current price before you pay.

## Plans
- **Day Pass**: ¥5.00 for 1 day. 1 GB of data, 30 minutes, 30 texts. Up to 30 days can be paid ahead.
- **30-Day Plan**: ¥68.00 for 30 days. 30 GB of data, 500 minutes, 200 texts.
- **Monthly Plan**: ¥88.00 a calendar month. 40 GB of data, 1,000 minutes, 300 texts.
- **Annual Plan**: ¥880.00 for a year. 480 GB of data, unlimited calls and texts. Up to 2 years ahead.
- **Keep My Number**: ¥8.00 a month. No calls or data: it only keeps your number. See [Keep my number](/help/keep-my-number/).

Except where said, a plan can be paid up to 12 periods ahead.

## Add-ons
- **300-Minute Voice Pack**: ¥20.00, 300 extra minutes for 30 days. Press **Buy an add-on** under the number.

## Paying
Pay with a method listed under **How to pay** (Alipay and WeChat Pay where they are offered, or a card), from your [wallet](/wallet/), with a refill PIN (redeemed into the wallet), or in cash at a shop that sells our refills. See [How to renew your plan](/help/how-to-renew/).""",
        """以下是中国大陆号码的套餐。价格以人民币计，已含 6% 税费。号码的续费页面在您付款前始终显示当前价格。

## 套餐
- **日套餐**：5.00 元，有效期 1 天。含 1 GB 流量、30 分钟通话、30 条短信。最多可提前支付 30 天。
- **30天套餐**：68.00 元，有效期 30 天。含 30 GB 流量、500 分钟通话、200 条短信。
- **月套餐**：每个自然月 88.00 元。含 40 GB 流量、1000 分钟通话、300 条短信。
- **年度套餐**：880.00 元，有效期一年。含 480 GB 流量，通话和短信不限量。最多可提前支付 2 年。
- **保号套餐**：每月 8.00 元。不含通话和流量，仅用于保留号码。请参阅[保号套餐](/help/keep-my-number/)。

除上面注明的以外，每个套餐最多可提前支付 12 个周期。

## 加油包
- **300分钟语音包**：20.00 元，30 天内额外 300 分钟通话。在号码下方点击 **购买加油包** 即可购买。

## 支付方式
可以用 **支付方式** 中列出的方式付款（提供时可选支付宝、微信支付，或银行卡），也可以用[钱包](/wallet/)余额支付，也可以用充值卡（先兑换到钱包），或到销售我们充值卡的门店用现金支付。请参阅[如何续费套餐](/help/how-to-renew/)。""",
        keywords_en="plan, price, cost, how much, yuan, rmb, cny, data, minutes, texts, unlimited, gb, cheapest, compare, which plan, voice pack",
        keywords_zh_hans="套餐, 价格, 资费, 多少钱, 人民币, 流量, 通话, 短信, 无限, 不限量, 便宜, 哪个套餐, 语音包",
        market="cn",
    ),
    DemoArticle(
        topics.KEEP_NUMBER,
        C.RENEWING,
        "keep-my-number",
        "The keep my number plan: keep your number for less",
        "保号套餐：低成本保留号码",
        """If you will not use your line for a while (for example while you live abroad), the **Keep My Number** plan keeps the number yours for a small price, without calls, texts or data.

## What it does
- Your number stays yours for as long as you keep paying the plan.
- The line shows **Number kept** on [My lines](/lines/).
- There are no calls, texts or data while it runs. Codes sent by text may not reach you: if a bank or an app sends you codes on this number, keep that in mind.
- Its price is on the renew page; see [Plans and prices](/help/plans-and-prices/).

## Switch to it
1. Open [My lines](/lines/) and press **Renew** under the number.
2. Choose **Keep My Number** and how many periods.
3. Pay as usual. It starts when your current plan ends, so you keep what you already paid for.

## Let auto-renew fall back to it
On the auto-renew page of the line, tick **If the plan cannot be paid, keep my number with the cheapest keep-my-number plan**. If your usual plan cannot be paid after every retry, auto-renew pays the keep-my-number plan instead, so the number is not lost.

## Come back
Renew with any plan whenever you like: the new plan starts at once if the keep-my-number period has ended, or when it ends.

Not every plan or market offers it: if you do not see it on the renew page, [contact support](/support/new/).""",
        """如果您一段时间内不使用这个号码（例如在国外生活期间），可以选择 **保号套餐**，以较低的费用保留号码，期间不含通话、短信和流量。

## 保号套餐的作用
- 只要持续支付保号套餐，号码就一直属于您。
- 在[我的号码](/lines/)中，号码显示为 **保号中**。
- 保号期间不能通话、发短信或使用流量，也可能收不到短信验证码：如果银行或 App 会向这个号码发送验证码，请提前考虑。
- 价格请在续费页面查看，也可以参阅[套餐与价格](/help/plans-and-prices/)。

## 改用保号套餐
1. 打开[我的号码](/lines/)，在号码下方点击 **续费**。
2. 选择 **保号套餐** 和续费期数。
3. 按平常的方式付款。保号套餐从当前套餐结束时开始，您已付费的内容不受影响。

## 让自动续费在扣款失败时改用保号套餐
在号码的自动续费页面，勾选 **如果套餐无法支付，用最便宜的保号套餐保留我的号码**。如果常用套餐多次重试后仍无法扣款，自动续费会改为支付保号套餐，号码就不会丢失。

## 恢复使用
随时可以用任何套餐续费：如果保号周期已经结束，新套餐立即开始；否则在保号周期结束时开始。

并非所有套餐和地区都提供保号套餐：如果续费页面上没有，请[联系客服](/support/new/)。""",
        keywords_en="keep my number, hold number, pause, park, abroad, not using, cheap, retention, save number",
        keywords_zh_hans="保号, 保号套餐, 暂时不用, 出国, 长期不用, 保留号码, 便宜",
    ),
)
